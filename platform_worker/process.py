"""One polled batch, start to finish: every record ends in Redis or acknowledged by the dead-letter topic.

`prepare` decodes the batch and asks the flood guard; `finish` writes the valid records in one
pipeline, retries those Redis refused on their own (retry.py) and dead-letters them once their attempts
run out, and dead-letters poison records at once. `finish` returns only when all of that is done, so
the caller may then commit the batch's offsets; if it raises, nothing of the batch may be committed.
SinkDown (Redis is away) dead-letters nothing: the caller holds the batch until Redis answers.
"""
import threading
import time
from dataclasses import dataclass
from typing import Callable

import structlog
from kafka import OffsetAndMetadata, TopicPartition

from platform_worker.consume import Batch, next_offsets
from platform_worker.decode import OrderRecord, decode
from platform_worker.dead_letter import DeadLetterPublisher, Failure
from platform_worker.errors import PoisonRecord, ShutdownRequested
from platform_worker.flood_guard import FloodGuard
from platform_worker.metrics import WorkerMetrics
from platform_worker.pauses import FLOOD_GUARD, Pauses
from platform_worker.retry import RecordRetry, Refused
from platform_worker.store import OrderStore
from platform_worker.traces import StoreTraces

log = structlog.get_logger("platform_worker")

Decoded = tuple[object, OrderRecord]  # a kafka ConsumerRecord and what the store writes of it


@dataclass
class PreparedBatch:
    decoded: list[Decoded]
    poison: list[Failure]
    offsets: dict[TopicPartition, OffsetAndMetadata]  # committed once the batch is finished

    def __len__(self) -> int:
        return len(self.decoded) + len(self.poison)

    def without(self, partitions: set[TopicPartition]) -> "PreparedBatch":
        """The batch without the records (and offsets) of partitions this worker no longer owns."""
        if not partitions:
            return self
        kept = lambda record: TopicPartition(record.topic, record.partition) not in partitions
        return PreparedBatch(
            [pair for pair in self.decoded if kept(pair[0])],
            [failure for failure in self.poison if kept(failure.record)],
            {tp: offset for tp, offset in self.offsets.items() if tp not in partitions},
        )


class BatchProcessor:
    def __init__(
        self,
        store: OrderStore,
        dead_letters: DeadLetterPublisher,
        retry: RecordRetry,
        guard: FloodGuard,
        pauses: Pauses,
        metrics: WorkerMetrics,
        stopping: threading.Event,
        traces: StoreTraces,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.dead_letters = dead_letters
        self.retry = retry
        self.guard = guard
        self.pauses = pauses
        self.metrics = metrics
        self.stopping = stopping
        self.traces = traces
        self.clock = clock

    def prepare(self, batch: Batch) -> PreparedBatch | None:
        """Decode; None (nothing written, the flood guard's pause held) when the poison share is too high."""
        decoded, poison = self._decode(batch)
        seen = len(decoded) + len(poison)
        if not self.guard.admit(seen, len(poison)):
            detail = (f"{len(poison)} of {seen} records in the batch are poison; "
                      f"share over the window {self.guard.failure_share:.0%}")
            log.error("flood guard tripped; consumption stopped", error=detail)
            self.pauses.hold(FLOOD_GUARD, detail)
            return None
        return PreparedBatch(decoded, poison, next_offsets(batch))

    def finish(self, batch: PreparedBatch) -> PreparedBatch:
        """Store and dead-letter; returns the batch, finished. Raises SinkDown, nothing dead-lettered."""
        failures = batch.poison + self._store(batch.decoded)
        self.dead_letters.publish(failures)
        self._count_dead_letters(failures)
        return batch

    def _decode(self, batch: Batch) -> tuple[list[Decoded], list[Failure]]:
        decoded, poison = [], []
        for records in batch.values():
            for record in records:
                try:
                    decoded.append((record, decode(record.value)))
                except PoisonRecord as error:
                    poison.append(Failure(record, error, attempts=1))
        return decoded, poison

    def _store(self, decoded: list[Decoded]) -> list[Failure]:
        if not decoded:
            return []
        started_ns = self.traces.started()
        orders = [order for _, order in decoded]
        refused = self._pair(decoded, self.store.store(orders))
        if not refused:
            self._observe_stored(decoded, started_ns)
            return []
        refused, attempts = self.retry.retry(self._write, refused)
        if refused and self.stopping.is_set():
            raise ShutdownRequested("stopped while retrying refused records")
        failed = {id(pair) for pair, _ in refused}
        self._observe_stored([pair for pair in decoded if id(pair) not in failed], started_ns)
        return [Failure(record, error, attempts) for (record, _), error in refused]

    def _write(self, decoded: list[Decoded]) -> Refused:
        return self._pair(decoded, self.store.store([order for _, order in decoded]))

    @staticmethod
    def _pair(decoded: list[Decoded], refused: list) -> Refused:
        return [(decoded[index], error) for index, error in refused]

    def _observe_stored(self, stored: list[Decoded], started_ns: int) -> None:
        moments = [order.processed_at for _, order in stored if order.processed_at is not None]
        self.metrics.latency.observe_ages(self.clock(), moments)
        self.metrics.records.labels("stored").inc(len(stored))
        self.traces.stored(stored, started_ns)

    def _count_dead_letters(self, failures: list[Failure]) -> None:
        if not failures:
            return
        self.metrics.records.labels("dead_lettered").inc(len(failures))
        for failure in failures:
            self.metrics.dead_lettered.labels(type(failure.error).__name__).inc()
