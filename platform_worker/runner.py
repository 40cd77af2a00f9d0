"""The worker's loop: poll a batch, finish it (store or dead-letter), commit it, repeat.

Signals only set a flag. On SIGTERM or SIGINT the loop stops polling, finishes the batch in hand
(or abandons it uncommitted if it is waiting on retries), commits, leaves the group and returns 0.
"""
import signal
import threading
import time

import structlog
from kafka import ConsumerRebalanceListener, KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaError

from platform_worker.consume import Batch, in_stable_group, lag_by_partition, next_offsets, records_of, rewind
from platform_worker.errors import DeadLetterFailed, FloodGuardTripped, ShutdownRequested
from platform_worker.flood_guard import FloodGuard
from platform_worker.metrics import WorkerMetrics
from platform_worker.process import BatchProcessor

log = structlog.get_logger("platform_worker")

POLL_TIMEOUT_MS = 500
REPORT_INTERVAL_S = 1.0
COMMIT_TIMEOUT_MS = 5000
DEAD_LETTER_BACKOFF_S = 1.0


class Worker:
    def __init__(
        self,
        consumer: KafkaConsumer,
        processor: BatchProcessor,
        guard: FloodGuard,
        metrics: WorkerMetrics,
        stopping: threading.Event,
    ):
        self.consumer = consumer
        self.processor = processor
        self.guard = guard
        self.metrics = metrics
        self.stopping = stopping
        self._uncommitted: dict[TopicPartition, OffsetAndMetadata] = {}
        self._reported_at = 0.0

    def run(self) -> None:
        while not self.stopping.is_set():
            batch = self.consumer.poll(timeout_ms=POLL_TIMEOUT_MS)
            if self.guard.tripped:
                self._hold(batch)
            elif batch:
                self._handle(batch)
            self._report()
        self.metrics.set_ready(False)
        self._commit({})

    def _handle(self, batch: Batch) -> None:
        try:
            self.processor.process(records_of(batch))
        except FloodGuardTripped as error:
            log.error("flood guard tripped; consumption stopped", error=str(error))
            self.metrics.flood_guard_tripped.set(1)
            self._hold(batch)
            return
        except DeadLetterFailed as error:
            log.error("dead-letter topic did not acknowledge; batch will be polled again", error=str(error))
            rewind(self.consumer, batch)
            self.stopping.wait(DEAD_LETTER_BACKOFF_S)
            return
        except ShutdownRequested:
            log.info("stopping while retrying; batch left uncommitted for the next owner")
            return
        self._commit(next_offsets(batch))

    def _hold(self, batch: Batch) -> None:
        """Flood guard tripped: keep the group membership, consume nothing, leave records uncommitted."""
        self.consumer.pause(*self.consumer.assignment())
        if batch:
            rewind(self.consumer, batch)

    def _commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        owned = self.consumer.assignment()
        pending = {tp: offset for tp, offset in {**self._uncommitted, **offsets}.items() if tp in owned}
        if not pending:
            self._uncommitted = {}
            return
        try:
            self.consumer.commit(pending, timeout_ms=COMMIT_TIMEOUT_MS)
            self._uncommitted = {}
        except KafkaError as error:
            # The records are stored already; at worst a new owner stores them again.
            log.warning("offset commit failed; will retry with the next commit", error=repr(error))
            self._uncommitted = pending

    def _report(self) -> None:
        now = time.monotonic()
        if now - self._reported_at < REPORT_INTERVAL_S:
            return
        self._reported_at = now
        self.metrics.set_ready(not self.guard.tripped and in_stable_group(self.consumer))
        for tp, lag in lag_by_partition(self.consumer).items():
            self.metrics.lag.labels(tp.topic, str(tp.partition)).set(lag)


class RebalanceReporter(ConsumerRebalanceListener):
    """Counts and logs partition moves; holds no state the at-least-once guarantee depends on."""

    def __init__(self, metrics: WorkerMetrics):
        self.metrics = metrics

    def on_partitions_assigned(self, assigned):
        self._count("assigned", assigned)

    def on_partitions_revoked(self, revoked):
        self._count("revoked", revoked)

    def on_partitions_lost(self, lost):
        self._count("lost", lost)

    def _count(self, event: str, partitions) -> None:
        partitions = list(partitions)
        if not partitions:
            return
        self.metrics.partition_changes.labels(event).inc(len(partitions))
        log.info(f"partitions {event}", partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in partitions))
        if event != "assigned":
            for tp in partitions:
                try:
                    self.metrics.lag.remove(tp.topic, str(tp.partition))
                except KeyError:
                    pass


def install_signal_handlers(stopping: threading.Event) -> None:
    def request_stop(signum, frame):
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
