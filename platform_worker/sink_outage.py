"""A sink outage is waited out, never dead-lettered: the batch whose write met it is held until Redis
takes it.

When Redis is down (sink_failures.py says which failures mean that) the batch is not a failure of its
records. `finish` then holds the pause SINK_DOWN (the loop pauses every partition and keeps polling, so
the group keeps this member however long the outage lasts; `/readyz` answers 503), and writes the held
batch again with capped exponential backoff and full jitter (tenacity) until Redis takes it: a write,
not a PING, is the probe, because a Redis out of memory answers PING but refuses every SET. Then the
pause is released and the batch is finished as any other, its offsets committed by the loop. Partitions
revoked meanwhile are dropped from the held batch, never committed. A shutdown ends the wait at once
and leaves the batch uncommitted. The outage is logged when it starts, at each backoff step and when it
ends (its length, the records held); `worker_sink_down_seconds_total` counts its time.
"""
import threading
import time
from typing import Callable

import structlog
from kafka import TopicPartition
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_random_exponential

from platform_worker.config import WorkerSettings
from platform_worker.errors import ShutdownRequested, SinkDown
from platform_worker.metrics import WorkerMetrics
from platform_worker.pauses import SINK_DOWN, Pauses
from platform_worker.process import PreparedBatch

log = structlog.get_logger("platform_worker")


class SinkOutage:
    def __init__(
        self,
        finish: Callable[[PreparedBatch], PreparedBatch],
        pauses: Pauses,
        metrics: WorkerMetrics,
        settings: WorkerSettings,
        stopping: threading.Event,
    ):
        self._finish = finish
        self.pauses = pauses
        self.metrics = metrics
        self.settings = settings
        self.stopping = stopping
        self._revoked: set[TopicPartition] = set()
        self._lock = threading.Lock()  # forget() runs on the loop's thread, the wait on the writer's
        self._counted_until = 0.0

    def finish(self, batch: PreparedBatch) -> PreparedBatch:
        """Finish the batch, waiting out any sink outage it meets (runs on the writer thread)."""
        try:
            return self._finish(batch)
        except SinkDown as error:
            return self._wait_out(batch, error)

    def forget(self, partitions) -> None:
        """Partitions revoked or lost: their records leave the held batch, uncommitted."""
        with self._lock:
            self._revoked.update(partitions)

    def _wait_out(self, batch: PreparedBatch, error: SinkDown) -> PreparedBatch:
        began = self._counted_until = time.monotonic()
        with self._lock:
            self._revoked.clear()
        self.pauses.hold(SINK_DOWN, str(error))
        log.error("sink down: partitions paused, batch held until Redis takes it", error=str(error),
                  records_held=len(batch))
        held = [batch]

        def attempt() -> PreparedBatch:
            held[0] = self._owned(held[0])
            return self._finish(held[0])

        try:
            finished = self._retrying(held)(attempt)
        except SinkDown as last:
            log.info("stopping during a sink outage; the held batch stays uncommitted", error=str(last),
                     outage_s=round(time.monotonic() - began, 1), records_held=len(held[0]))
            raise ShutdownRequested("stopped during a sink outage") from last
        finally:
            self._count_seconds()
            self.pauses.release(SINK_DOWN)
        log.info("sink back: batch stored, partitions resumed", outage_s=round(time.monotonic() - began, 1),
                 records_held=len(finished))
        return finished

    def _retrying(self, held: list[PreparedBatch]) -> Retrying:
        settings = self.settings
        return Retrying(
            retry=retry_if_exception_type(SinkDown),
            stop=lambda state: self.stopping.is_set(),
            wait=wait_random_exponential(multiplier=settings.backoff_base_seconds, max=settings.backoff_max_seconds),
            sleep=self.stopping.wait,
            before_sleep=lambda state: self._still_down(state, len(held[0])),
            reraise=True,
        )

    def _still_down(self, state: RetryCallState, records_held: int) -> None:
        self._count_seconds()
        log.warning("sink still down", error=str(state.outcome.exception()), probe=state.attempt_number,
                    next_probe_in_s=round(state.upcoming_sleep, 2), records_held=records_held)

    def _owned(self, batch: PreparedBatch) -> PreparedBatch:
        with self._lock:
            revoked = set(self._revoked)
        return batch.without(revoked)

    def _count_seconds(self) -> None:
        now = time.monotonic()
        self.metrics.sink_down_seconds.inc(now - self._counted_until)
        self._counted_until = now
