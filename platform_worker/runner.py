"""The worker's loop: poll a batch, finish it (store or dead-letter), commit it, repeat.

One batch is in flight at a time: while a writer thread stores batch N into Redis, the loop polls
and decodes batch N+1; N is committed only after it finished, and N+1 is handed over only then.
A failed batch is rewound (with the one polled after it), so it is polled again; nothing is
committed past a record that is neither in Redis nor acknowledged by the dead-letter topic.

While a pause is held (pauses.py: the sink is down, the flood guard tripped) the loop pauses every
partition it owns and goes on polling, which returns nothing but keeps it in its group; a batch polled
meanwhile is rewound. The writer keeps the batch it holds through a sink outage (sink_outage.py) and
the loop waits for it without blocking; once no pause is held the partitions are resumed.

Signals only set a flag. On SIGTERM or SIGINT the loop stops polling, finishes the batch in flight
(or abandons it uncommitted if it is waiting on retries or on the sink), commits, and returns; the
caller closes the consumer, which leaves the group.
"""
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as StillWriting
from dataclasses import dataclass

import structlog
from kafka import KafkaConsumer
from kafka.structs import MemberState
from kafka.errors import KafkaError

from platform_worker.commits import CommitTracker
from platform_worker.consume import Batch, lag_by_partition, rewind
from platform_worker.errors import DeadLetterFailed, ShutdownRequested
from platform_worker.metrics import WorkerMetrics
from platform_worker.pauses import Pauses
from platform_worker.process import BatchProcessor, PreparedBatch
from platform_worker.sink_outage import SinkOutage
from platform_worker.unstored_ages import UnstoredAges

log = structlog.get_logger("platform_worker")

POLL_TIMEOUT_MS = 500
SETTLE_STEP_S = 0.1  # while a pause is held, the loop looks at the batch in flight this often between polls
REPORT_INTERVAL_S = 1.0
DEAD_LETTER_BACKOFF_S = 1.0
BROKER_AWAY_PAUSE_S = 0.5


@dataclass
class InFlight:
    batch: Batch
    done: Future  # its result: the PreparedBatch finished (without partitions revoked meanwhile)


class Worker:
    def __init__(
        self,
        consumer: KafkaConsumer,
        processor: BatchProcessor,
        outage: SinkOutage,
        pauses: Pauses,
        metrics: WorkerMetrics,
        stopping: threading.Event,
        commits: CommitTracker,
    ):
        self.consumer = consumer
        self.processor = processor
        self.outage = outage
        self.pauses = pauses
        self.metrics = metrics
        self.stopping = stopping
        self.commits = commits
        self._paused = False
        self._reported_at = 0.0
        self._unstored = UnstoredAges()

    def run(self) -> None:
        in_flight: InFlight | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="store") as writer:
            while not self.stopping.is_set():
                batch = self._poll()
                self._unstored.polled(batch)
                prepared = self._prepare(batch)
                in_flight, clear = self._settle(in_flight)
                if not clear and prepared:
                    self._hold(batch)
                    prepared = None
                if prepared:
                    in_flight = InFlight(batch, writer.submit(self.outage.finish, prepared))
                if not batch:
                    self.commits.caught_up()
                self._report()
            self._settle(in_flight, wait=True)
        self.metrics.set_ready(False, "stopping")
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
        if self.pauses.held:
            self._hold(batch)
            return None
        if self._paused:
            self.consumer.resume(*self.consumer.paused())
            self._paused = False
        if not batch:
            return None
        prepared = self.processor.prepare(batch)
        if prepared is None:  # the flood guard tripped
            self._hold(batch)
        return prepared

    def _settle(self, in_flight: InFlight | None, wait: bool = False) -> tuple[InFlight | None, bool]:
        """Wait for the batch in flight and commit it if it finished; while a pause is held, wait only
        briefly. Returns the batch still in flight (or None) and whether the next batch may follow."""
        if in_flight is None:
            return None, True
        while True:
            try:
                finished = in_flight.done.result(timeout=None if wait else SETTLE_STEP_S)
                break
            except StillWriting:
                if self.pauses.held:
                    return in_flight, False
            except DeadLetterFailed as error:
                log.error("dead-letter topic did not acknowledge; batch will be polled again", error=str(error))
                rewind(self.consumer, in_flight.batch)
                self.stopping.wait(DEAD_LETTER_BACKOFF_S)
                return None, False
            except ShutdownRequested as stopped:
                log.info("stopping while a batch waited; batch left uncommitted for the next owner", why=str(stopped))
                return None, False
        self.commits.finished(finished.offsets)
        self._unstored.finished(finished.offsets)
        return None, True

    def _hold(self, batch: Batch) -> None:
        """Keep the group membership, consume nothing, leave the records uncommitted."""
        self.consumer.pause(*self.consumer.assignment())
        self._paused = True
        if batch:
            rewind(self.consumer, batch)

    def _report(self) -> None:
        now = time.monotonic()
        if now - self._reported_at < REPORT_INTERVAL_S:
            return
        self._reported_at = now
        membership = self.consumer.group_metadata()
        self.metrics.generation.set(membership.generation_id)
        if self.pauses.held:
            self.metrics.set_ready(False, self.pauses.describe())
        elif membership.state != MemberState.STABLE:
            self.metrics.set_ready(False, "not a stable member of its group (joining or rebalancing)")
        else:
            self.metrics.set_ready(True)
        self.metrics.assigned.set(len(self.consumer.assignment()))
        for tp, lag in lag_by_partition(self.consumer).items():
            self.metrics.lag.labels(tp.topic, str(tp.partition)).set(lag)
        for tp, age in self._unstored.ages(time.time_ns() // 1_000_000, self.consumer.assignment()).items():
            self.metrics.lag_seconds.labels(tp.topic, str(tp.partition)).set(age)


def install_signal_handlers(stopping: threading.Event) -> None:
    def request_stop(signum, frame):
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
