"""Writing outbox rows directly, as a payment would, and reading back what the relay did."""
import uuid
from datetime import datetime, timezone

from sqlalchemy import Engine, func, insert, select

from common.order_processed import AGGREGATE_TYPE, EVENT_TYPE, iso_millis
from common.outbox import add_event, outbox, outbox_retry
from tests.support.kafka import consume as read_topic
from tests.support.kafka import header


def payload(order_id: int, seq: int = 0) -> dict:
    return {
        "orderId": order_id,
        "userId": 7,
        "finalAmount": 1000 + seq,
        "couponId": None,
        "items": [{"productOptionId": 3, "productName": "T-shirt", "quantity": 1, "price": 1000 + seq}],
        "processedAt": iso_millis(datetime.now(timezone.utc)),
    }


def write_event(conn, topic: str, key: int, seq: int = 0, headers: dict | None = None, body: dict | None = None):
    return add_event(
        conn,
        aggregatetype=AGGREGATE_TYPE,
        aggregateid=str(key),
        event_type=EVENT_TYPE,
        topic=topic,
        payload=body or payload(key, seq),
        headers=headers,
    )


def write_events(engine: Engine, topic: str, keys: list[int]) -> None:
    with engine.begin() as conn:
        for seq, key in enumerate(keys):
            write_event(conn, topic, key, seq)


def rows(engine: Engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(outbox).order_by(outbox.c.id)).all()


def retry_time(engine: Engine, outbox_id: int):
    """When the relay may try the row again, or None if no publish of it failed."""
    with engine.connect() as conn:
        return conn.execute(
            select(outbox_retry.c.next_attempt_at).where(outbox_retry.c.outbox_id == outbox_id)
        ).scalar_one_or_none()


def pending_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))).scalar_one()


def outbox_id_by_event_id(engine: Engine) -> dict[str, int]:
    return {str(row.event_id): row.id for row in rows(engine)}


def assert_complete_and_in_key_order(records: list, engine: Engine) -> dict:
    """Every outbox row reached Kafka; per key, first deliveries are in outbox id order."""
    ids = outbox_id_by_event_id(engine)
    seen: set[str] = set()
    last_id_per_key: dict[bytes, int] = {}
    duplicates = 0
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        event_id = header(record, "event_id")
        if event_id in seen:
            duplicates += 1
            continue
        seen.add(event_id)
        outbox_id = ids[event_id]
        assert outbox_id > last_id_per_key.get(record.key, 0), f"key {record.key!r} out of order at id {outbox_id}"
        last_id_per_key[record.key] = outbox_id
    missing = set(ids) - seen
    assert not missing, f"{len(missing)} events never reached Kafka"
    return {"records": len(records), "unique": len(seen), "duplicates": duplicates}


def write_backlog(engine: Engine, topic: str, count: int, keys: int) -> None:
    """`count` committed rows over `keys` keys, in a few large transactions."""
    chunk = 5000
    for start in range(0, count, chunk):
        values = [
            {
                "event_id": uuid.uuid4(),
                "aggregatetype": AGGREGATE_TYPE,
                "aggregateid": str(n % keys),
                "type": EVENT_TYPE,
                "topic": topic,
                "payload": payload(n % keys, n),
                "headers": {},
            }
            for n in range(start, min(start + chunk, count))
        ]
        with engine.begin() as conn:
            conn.execute(insert(outbox), values)


def published_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_not(None))).scalar_one()


def consume_every_event(brokers: str, topic: str, engine: Engine, timeout: float = 120) -> list:
    """Records of `topic` until every outbox row's event_id is among them (duplicates included)."""
    wanted = set(outbox_id_by_event_id(engine))
    expected = len(wanted)
    while True:
        records = read_topic(brokers, topic, expected=expected, timeout=timeout)
        missing = len(wanted - {header(record, "event_id") for record in records})
        if not missing or len(records) < expected:
            return records
        expected = len(records) + missing
