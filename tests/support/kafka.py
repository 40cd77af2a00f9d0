"""Read what really reached the broker."""
import uuid

from kafka import KafkaConsumer

from tests.support.waiting import wait_for


def consume(brokers: str, topic: str, *, expected: int, timeout: float = 60.0) -> list:
    """All records of `topic` from the beginning, once at least `expected` have arrived."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=brokers.split(","),
        group_id=f"test-reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    records: list = []

    def enough() -> bool:
        for batch in consumer.poll(timeout_ms=200).values():
            records.extend(batch)
        return len(records) >= expected

    try:
        wait_for(enough, timeout=timeout, interval=0, what=f"{expected} records on {topic}")
    finally:
        consumer.close()
    return records


def header(record, name: str) -> str | None:
    for key, value in record.headers or []:
        if key == name:
            return value.decode()
    return None
