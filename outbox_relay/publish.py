"""Producing claimed rows to Kafka and learning, per row, whether the broker acknowledged it.

Guarantees: acks=all with idempotence on; a row counts as acknowledged only when its future
succeeded. Key = aggregateid, value = the payload JSON exactly as stored, headers = DESIGN.md's
(`event_id`, `event_type`, `content-type`) followed by the row's own (which cannot override them).
A batch never waits longer than the producer's delivery timeout (plus a second); a row not answered
by then has failed (NoAnswer, transient). When the caller abandons the batch (shutdown) the rows
not answered are released, neither acked nor failed.

A refusal (a non-retriable error such as MESSAGE_TOO_LARGE) puts kafka-python's idempotent
producer in a fatal state that fails every other record in flight with the same error. So after a
refusal the producer is replaced and the failed rows are sent again one by one: only the row the
broker really refuses is reported as failed. The claim gives at most one row per key per batch,
so sending them again one by one cannot reorder a key.
"""
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError

from common.order_processed import kafka_headers
from outbox_relay.claim import ClaimedRow
from outbox_relay.config import Settings
from outbox_relay.errors import BrokerUnavailable

_WAIT_SLICE_SECONDS = 0.2


class NoAnswer(KafkaTimeoutError):
    """The broker neither acknowledged nor refused a record within the delivery timeout."""

    def __init__(self, delivery_timeout_ms: int):
        super().__init__(f"no acknowledgement within the delivery timeout ({delivery_timeout_ms} ms)")


@dataclass
class PublishResult:
    acked: list[ClaimedRow] = field(default_factory=list)
    failed: list[tuple[ClaimedRow, BaseException]] = field(default_factory=list)
    released: list[ClaimedRow] = field(default_factory=list)
    acked_at: float = 0.0

    @property
    def broker_down(self) -> bool:
        """Nothing acknowledged and every failure transient: the broker, not a record, is the problem."""
        return bool(self.failed) and not self.acked and all(retriable(error) for _, error in self.failed)

    @property
    def refused(self) -> bool:
        return any(not retriable(error) for _, error in self.failed)


def retriable(error: BaseException) -> bool:
    return bool(getattr(error, "retriable", False))


def record_headers(row: ClaimedRow) -> list[tuple[str, bytes]]:
    return kafka_headers(row.event_id, row.extra_headers(), row.type)


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:1000]


def make_producer(settings: Settings) -> KafkaProducer:
    return KafkaProducer(
        **settings.client_options(),
        client_id=settings.kafka_client_id,
        acks="all",
        enable_idempotence=True,
        retries=2**31 - 1,  # bounded by delivery_timeout_ms, as in the Java client
        max_in_flight_requests_per_connection=5,  # the most idempotence keeps in order
        linger_ms=settings.linger_ms,
        batch_size=settings.producer_batch_size,
        compression_type=settings.compression_type,
        request_timeout_ms=settings.request_timeout_ms,
        delivery_timeout_ms=settings.delivery_timeout_ms,
        max_block_ms=settings.max_block_ms,
        bootstrap_timeout_ms=settings.max_block_ms,
        allow_auto_create_topics=False,
        metrics_enabled=False,
    )


@dataclass
class Sending:
    """A batch handed to the producer, not yet answered."""

    result: PublishResult
    sent: list[tuple[ClaimedRow, object]]
    producer: KafkaProducer | None = None
    flush: bool = False  # nothing will follow soon: send at once rather than after linger_ms


class Publisher:
    """One KafkaProducer, created on first use and again after it was closed.

    `send` hands a batch to the producer and returns at once; `complete` waits for that batch's
    answers only, so several batches can be in flight (the runner's pipeline).
    """

    def __init__(self, settings: Settings):
        self._settings = settings
        self._producer: KafkaProducer | None = None
        self._lock = threading.RLock()  # the runner sends from one thread and completes in another

    def producer(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                try:
                    self._producer = make_producer(self._settings)
                except KafkaError as error:
                    raise BrokerUnavailable(describe(error)) from error
            return self._producer

    def send(self, rows: list[ClaimedRow], flush: bool = True) -> Sending:
        producer = self.producer()
        result = PublishResult()
        sent = []
        for index, row in enumerate(rows):
            try:
                future = producer.send(
                    row.topic,
                    key=row.aggregateid.encode(),
                    value=row.payload.encode(),
                    headers=record_headers(row),
                )
            except KafkaError as error:
                result.failed.append((row, error))
                if isinstance(error, KafkaTimeoutError):
                    # metadata did not come within max_block_ms: the next rows would wait as long
                    result.released.extend(rows[index + 1:])
                    break
                continue
            sent.append((row, future))
        return Sending(result, sent, producer, flush)

    def complete(self, sending: Sending, abandon: Callable[[], bool] = lambda: False) -> PublishResult:
        result = self._answers(sending, abandon)
        if result.failed:
            self.close(timeout=0)
        if result.refused and len(result.failed) > 1:
            suspects, result.failed = result.failed, []
            for row, _ in suspects:
                single = self._answers(self.send([row]), abandon)
                if single.failed:
                    self.close(timeout=0)
                result.acked += single.acked
                result.failed += single.failed
                result.released += single.released
                result.acked_at = single.acked_at
        return result

    def _answers(self, sending: Sending, abandon: Callable[[], bool]) -> PublishResult:
        """Wait until every record is answered, the delivery timeout (plus a margin) passed, or `abandon()`."""
        deadline = time.monotonic() + self._settings.delivery_timeout_ms / 1000 + 1.0
        if sending.flush and sending.sent:
            self._flush(sending.producer, abandon, deadline)
        for _, future in sending.sent:
            while not future.is_done and not abandon() and time.monotonic() < deadline:
                try:
                    future.get(timeout=_WAIT_SLICE_SECONDS)
                except KafkaError:
                    pass  # not answered within the slice, or failed: told apart below
        result = sending.result
        result.acked_at = time.time()
        for row, future in sending.sent:
            if not future.is_done and abandon():
                result.released.append(row)
            elif not future.is_done:
                # kafka-python's idempotent producer does not expire a batch it keeps retrying (e.g.
                # NOT_ENOUGH_REPLICAS) or one waiting for a producer id (no controller quorum): past
                # the delivery timeout it is a failure like any other, and the producer is replaced
                result.failed.append((row, NoAnswer(self._settings.delivery_timeout_ms)))
            elif future.succeeded():
                result.acked.append(row)
            else:
                result.failed.append((row, future.exception))
        return result

    @staticmethod
    def _flush(producer: KafkaProducer, abandon: Callable[[], bool], deadline: float) -> None:
        """Make the producer send what it holds now (no linger) and wait, in slices, for the answers."""
        while not abandon():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                producer.flush(timeout=min(_WAIT_SLICE_SECONDS, remaining))
                return
            except KafkaTimeoutError:
                continue
            except Exception:  # e.g. a producer closed meanwhile: the per-record futures tell what happened
                return

    def close(self, timeout: float = 2.0) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            close_producer(producer, timeout)


def close_producer(producer: KafkaProducer, timeout: float) -> None:
    """Close, dropping what is still unanswered after `timeout` (those rows stay unpublished).

    kafka-python's close() flushes first and raises KafkaTimeoutError when records are still
    unanswered (on a cluster: some partitions refused, others still in flight), leaving the
    sender thread running; the relay must neither crash on that nor leak the thread.
    """
    try:
        producer.close(timeout=timeout)
    except KafkaTimeoutError:
        producer._sender.force_close()  # what close() itself does once a flush is over
        producer._sender.join(timeout=max(timeout, 1.0))
        producer._closed = True
