"""The dead-letter topic: a failed record is re-produced with the same key, value bytes and headers,
plus `dlq.*` headers saying where it came from and why it failed.

`publish` returns only once the broker acknowledged every record (acks=all, idempotent producer);
otherwise it raises DeadLetterFailed and the caller must not commit those offsets.
"""
from dataclasses import dataclass
from datetime import datetime, timezone

from kafka import KafkaProducer
from kafka.errors import KafkaError

from common.order_processed import iso_millis
from platform_worker.config import WorkerSettings
from platform_worker.errors import DeadLetterFailed

DLQ_HEADER_PREFIX = "dlq."
MAX_ERROR_MESSAGE = 1000


@dataclass(frozen=True)
class Failure:
    record: object  # a kafka ConsumerRecord
    error: Exception
    attempts: int


def make_producer(settings: WorkerSettings, client_suffix: str = "dlq") -> KafkaProducer:
    return KafkaProducer(
        **settings.client_options(),
        client_id=f"{settings.kafka_client_id}-worker-{client_suffix}",
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
    )


def original_headers(headers) -> list[tuple[str, bytes]]:
    """The record's own headers, without any `dlq.*` ones an earlier failure added."""
    return [(name, value) for name, value in headers or [] if not name.startswith(DLQ_HEADER_PREFIX)]


def dead_letter_headers(failure: Failure, group_id: str, now: datetime | None = None) -> list[tuple[str, bytes]]:
    record = failure.record
    failed_at = iso_millis(now or datetime.now(timezone.utc))
    extra = {
        "dlq.original.topic": record.topic,
        "dlq.original.partition": str(record.partition),
        "dlq.original.offset": str(record.offset),
        "dlq.error.class": type(failure.error).__name__,
        "dlq.error.message": str(failure.error)[:MAX_ERROR_MESSAGE],
        "dlq.attempts": str(failure.attempts),
        "dlq.failed.at": failed_at,
        "dlq.consumer.group": group_id,
    }
    return original_headers(record.headers) + [(name, value.encode()) for name, value in extra.items()]


class DeadLetterPublisher:
    def __init__(self, producer: KafkaProducer, topic: str, group_id: str, timeout_s: float):
        self.producer = producer
        self.topic = topic
        self.group_id = group_id
        self.timeout_s = timeout_s

    def publish(self, failures: list[Failure]) -> None:
        if not failures:
            return
        try:
            futures = [self._send(failure) for failure in failures]
            self.producer.flush(timeout=self.timeout_s)
            for future in futures:
                future.get(timeout=self.timeout_s)
        except KafkaError as error:
            raise DeadLetterFailed(f"{type(error).__name__}: {error}") from error

    def _send(self, failure: Failure):
        record = failure.record
        return self.producer.send(
            self.topic,
            key=record.key,
            value=record.value,
            headers=dead_letter_headers(failure, self.group_id),
        )
