"""The worker's loop: poll a batch, finish it (store or dead-letter), commit it, repeat.

One batch is in flight at a time: while a writer thread stores batch N into Redis, the loop polls
and decodes batch N+1; N is committed only after it finished, and N+1 is handed over only then.
A failed batch is rewound (with the one polled after it), so it is polled again; nothing is
committed past a record that is neither in Redis nor acknowledged by the dead-letter topic.

Signals only set a flag. On SIGTERM or SIGINT the loop stops polling, finishes the batch in flight
(or abandons it uncommitted if it is waiting on retries), commits, and returns; the caller closes
the consumer, which leaves the group.
"""
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import structlog
from kafka import ConsumerRebalanceListener, KafkaConsumer
from kafka.errors import KafkaError

from platform_worker.commits import CommitTracker
from platform_worker.consume import Batch, in_stable_group, lag_by_partition, next_offsets, records_of, rewind
from platform_worker.errors import DeadLetterFailed, FloodGuardTripped, ShutdownRequested
from platform_worker.flood_guard import FloodGuard
from platform_worker.metrics import WorkerMetrics
from platform_worker.process import BatchProcessor, PreparedBatch

log = structlog.get_logger("platform_worker")

POLL_TIMEOUT_MS = 500
REPORT_INTERVAL_S = 1.0
DEAD_LETTER_BACKOFF_S = 1.0
BROKER_AWAY_PAUSE_S = 0.5


@dataclass
class InFlight:
    batch: Batch
    done: Future


class Worker:
    def __init__(
        self,
        consumer: KafkaConsumer,
        processor: BatchProcessor,
        guard: FloodGuard,
        metrics: WorkerMetrics,
        stopping: threading.Event,
        commits: CommitTracker,
    ):
        self.consumer = consumer
        self.processor = processor
        self.guard = guard
        self.metrics = metrics
        self.stopping = stopping
        self.commits = commits
        self._reported_at = 0.0

    def run(self) -> None:
        in_flight: InFlight | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="store") as writer:
            while not self.stopping.is_set():
                batch = self._poll()
                prepared = self._prepare(batch)
                if not self._settle(in_flight) and batch:
                    rewind(self.consumer, batch)
                    prepared = None
                in_flight = InFlight(batch, writer.submit(self.processor.finish, prepared)) if prepared else None
                if not batch:
                    self.commits.caught_up()
                self._report()
            self._settle(in_flight)
        self.metrics.set_ready(False)
        self.commits.commit_now()

    def _poll(self) -> Batch:
        """A batch, or none while a broker is away. kafka-python raises a broker's refused connection
        (e.g. the group coordinator's node killed) out of poll; the consumer itself recovers, finding
        the new coordinator on a later poll, so this is a pause, not the worker's end."""
        try:
            return self.consumer.poll(timeout_ms=POLL_TIMEOUT_MS)
        except KafkaError as error:
            if not getattr(error, "retriable", False):
                raise
            log.warning("poll failed, a broker is away; polling again", error=repr(error))
            self.stopping.wait(BROKER_AWAY_PAUSE_S)
            return {}

    def _prepare(self, batch: Batch) -> PreparedBatch | None:
        if self.guard.tripped:
            self._hold(batch)
            return None
        if not batch:
            return None
        try:
            return self.processor.prepare(records_of(batch))
        except FloodGuardTripped as error:
            log.error("flood guard tripped; consumption stopped", error=str(error))
            self.metrics.flood_guard_tripped.set(1)
            self._hold(batch)
            return None

    def _settle(self, in_flight: InFlight | None) -> bool:
        """Wait for the batch in flight; commit it if it finished, else rewind it. False if it failed."""
        if in_flight is None:
            return True
        try:
            in_flight.done.result()
        except DeadLetterFailed as error:
            log.error("dead-letter topic did not acknowledge; batch will be polled again", error=str(error))
            rewind(self.consumer, in_flight.batch)
            self.stopping.wait(DEAD_LETTER_BACKOFF_S)
            return False
        except ShutdownRequested:
            log.info("stopping while retrying; batch left uncommitted for the next owner")
            return False
        self.commits.finished(next_offsets(in_flight.batch))
        return True

    def _hold(self, batch: Batch) -> None:
        """Flood guard tripped: keep the group membership, consume nothing, leave records uncommitted."""
        self.consumer.pause(*self.consumer.assignment())
        if batch:
            rewind(self.consumer, batch)

    def _report(self) -> None:
        now = time.monotonic()
        if now - self._reported_at < REPORT_INTERVAL_S:
            return
        self._reported_at = now
        self.metrics.set_ready(not self.guard.tripped and in_stable_group(self.consumer))
        self.metrics.assigned.set(len(self.consumer.assignment()))
        for tp, lag in lag_by_partition(self.consumer).items():
            self.metrics.lag.labels(tp.topic, str(tp.partition)).set(lag)


class RebalanceListener(ConsumerRebalanceListener):
    """Counts and logs partition moves; hands over revoked partitions' finished offsets (commits.py)."""

    def __init__(self, metrics: WorkerMetrics):
        self.metrics = metrics
        self.commits: CommitTracker | None = None

    def on_partitions_assigned(self, assigned):
        self._count("assigned", assigned)

    def on_partitions_revoked(self, revoked):
        if self._count("revoked", revoked) and self.commits is not None:
            self.commits.hand_over(revoked)
        self._drop_lag(revoked)

    def on_partitions_lost(self, lost):
        if self._count("lost", lost) and self.commits is not None:
            self.commits.forget(lost)
        self._drop_lag(lost)

    def _count(self, event: str, partitions) -> bool:
        """Count and log a move; False when it moved no partition."""
        if not partitions:
            return False
        self.metrics.partition_changes.labels(event).inc(len(partitions))
        log.info(f"partitions {event}", partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in partitions))
        return True

    def _drop_lag(self, partitions) -> None:
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
