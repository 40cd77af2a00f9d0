"""One polled batch, start to finish: every record ends in Redis or acknowledged by the dead-letter topic.

`prepare` decodes the batch and asks the flood guard; `finish` writes the valid records in one
pipeline, retried as a batch on transient failures (retry.py) and dead-lettered once the retries
run out, and dead-letters poison records at once. `finish` returns only when all of that is done,
so the caller may then commit the batch's offsets; if it raises, nothing of the batch may be committed.
"""
import time
from dataclasses import dataclass
from typing import Callable

from platform_worker.decode import OrderRecord, decode
from platform_worker.dead_letter import DeadLetterPublisher, Failure
from platform_worker.errors import FloodGuardTripped, PoisonRecord, ShutdownRequested, TransientError
from platform_worker.flood_guard import FloodGuard
from platform_worker.metrics import WorkerMetrics
from platform_worker.retry import RetryPolicy
from platform_worker.store import OrderStore
from platform_worker.traces import StoreTraces


@dataclass
class PreparedBatch:
    orders: list[OrderRecord]
    valid: list  # the ConsumerRecords of `orders`, same order
    failures: list[Failure]


class BatchProcessor:
    def __init__(
        self,
        store: OrderStore,
        dead_letters: DeadLetterPublisher,
        retry: RetryPolicy,
        guard: FloodGuard,
        metrics: WorkerMetrics,
        traces: StoreTraces,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.dead_letters = dead_letters
        self.retry = retry
        self.guard = guard
        self.metrics = metrics
        self.traces = traces
        self.clock = clock

    def process(self, records: list) -> None:
        self.finish(self.prepare(records))

    def prepare(self, records: list) -> PreparedBatch:
        """Decode; raises FloodGuardTripped (nothing written) when the poison share is too high."""
        orders, valid, failures = self._decode(records)
        if not self.guard.admit(len(records), len(failures)):
            raise FloodGuardTripped(
                f"{len(failures)} of {len(records)} records in the batch are poison; "
                f"share over the window {self.guard.failure_share:.0%}"
            )
        return PreparedBatch(orders, valid, failures)

    def finish(self, batch: PreparedBatch) -> None:
        failures = batch.failures + self._store(batch.orders, batch.valid)
        self.dead_letters.publish(failures)
        self._count_dead_letters(failures)

    def _decode(self, records: list) -> tuple[list[OrderRecord], list, list[Failure]]:
        orders, valid, failures = [], [], []
        for record in records:
            try:
                orders.append(decode(record.value))
                valid.append(record)
            except PoisonRecord as error:
                failures.append(Failure(record, error, attempts=1))
        return orders, valid, failures

    def _store(self, orders: list[OrderRecord], valid: list) -> list[Failure]:
        if not orders:
            return []
        started_ns = self.traces.started()
        try:
            self.retry.call(lambda: self.store.store(orders), on_retry=lambda attempt: self._count_retry(len(orders)))
        except TransientError as error:
            if self.retry.stopping.is_set():
                raise ShutdownRequested("stopped while retrying a batch") from error
            return [Failure(record, error, error.attempts) for record in valid]
        self._observe_stored(orders)
        self.traces.stored(valid, [order.order_id for order in orders], started_ns)
        return []

    def _count_retry(self, records: int) -> None:
        self.metrics.retry_attempts.inc()
        self.metrics.records.labels("retried").inc(records)

    def _observe_stored(self, orders: list[OrderRecord]) -> None:
        moments = [order.processed_at for order in orders if order.processed_at is not None]
        self.metrics.latency.observe_ages(self.clock(), moments)
        self.metrics.records.labels("stored").inc(len(orders))

    def _count_dead_letters(self, failures: list[Failure]) -> None:
        if not failures:
            return
        self.metrics.records.labels("dead_lettered").inc(len(failures))
        for failure in failures:
            self.metrics.dead_lettered.labels(type(failure.error).__name__).inc()
