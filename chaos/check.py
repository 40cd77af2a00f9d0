"""The checker: joins what PostgreSQL committed with what Kafka and Redis hold.

Guarantees of a `Verdict`: `lost` counts PAID orders found neither in Redis (a value whose
orderId matches) nor on the dead-letter topic; `accepted_not_paid` counts payments answered 200
whose order is not PAID in the database; `published_not_paid` and `in_redis_not_paid` count events
of orders that are not PAID (a rolled-back payment must leave no event anywhere); `duplicates` counts records of `order.processed` beyond the
first per event_id (at-least-once shows here; Redis SET makes them harmless). Topics are read from
the beginning to the end offsets taken at the time of reading.
"""
import json
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field

import redis
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import create_engine, text

from platform_worker.store import redis_key
from common.kafka_connection import connection_to

CHUNK = 1000


@dataclass(frozen=True)
class DatabaseView:
    paid: frozenset[int]
    outbox_rows: int
    outbox_published: int
    outbox_orders: frozenset[int]


@dataclass(frozen=True)
class TopicView:
    records: int
    event_ids: Counter
    orders: frozenset[int]
    reasons: Counter = field(default_factory=Counter)


def read_database(database_url: str) -> DatabaseView:
    engine = create_engine(database_url, pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            paid = conn.execute(text("SELECT id FROM orders WHERE status = 'PAID'")).scalars().all()
            rows = conn.execute(text("SELECT aggregateid, published_at IS NOT NULL FROM outbox")).all()
    finally:
        engine.dispose()
    return DatabaseView(
        paid=frozenset(paid), outbox_rows=len(rows), outbox_published=sum(1 for _, done in rows if done),
        outbox_orders=frozenset(int(order) for order, _ in rows),
    )


def _header(record, name: str) -> str | None:
    for key, value in record.headers or []:
        if key == name:
            return value.decode(errors="replace")
    return None


def read_topic(brokers: str, topic: str, timeout_s: float = 60.0) -> TopicView:
    consumer = KafkaConsumer(
        **connection_to(brokers).client_options(), group_id=None, enable_auto_commit=False,
        client_id=f"chaos-checker-{uuid.uuid4().hex[:6]}", request_timeout_ms=10_000,
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        event_ids, orders, reasons, records = Counter(), set(), Counter(), 0
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end within {timeout_s}s")
            for batch in consumer.poll(timeout_ms=500).values():
                for record in batch:
                    records += 1
                    event_ids[_header(record, "event_id")] += 1
                    orders.add(int(record.key))
                    if reason := _header(record, "dlq.error.class"):
                        reasons[reason] += 1
    finally:
        consumer.close()
    return TopicView(records, event_ids, frozenset(orders), reasons)


def keys_in_range(redis_url: str, id_offset: int) -> frozenset[int]:
    """Order ids of every data:order:processed key of this run (its ids are id_offset + 0..999999)."""
    prefix = redis_key(id_offset)[: -6]
    client = redis.Redis.from_url(redis_url, socket_timeout=10)
    try:
        return frozenset(int(key.decode().rsplit(":", 1)[1]) for key in client.scan_iter(match=prefix + "?" * 6, count=1000))
    finally:
        client.close()


def read_redis(redis_url: str, order_ids: frozenset[int]) -> frozenset[int]:
    client = redis.Redis.from_url(redis_url, socket_timeout=10)
    found = set()
    try:
        ids = sorted(order_ids)
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i:i + CHUNK]
            for order_id, value in zip(chunk, client.mget([redis_key(o) for o in chunk])):
                if value is not None and json.loads(value).get("orderId") == order_id:
                    found.add(order_id)
    finally:
        client.close()
    return frozenset(found)


@dataclass(frozen=True)
class Verdict:
    paid: int
    outbox_rows: int
    outbox_published: int
    paid_without_outbox_row: int
    published_records: int
    published_distinct: int
    duplicates: int
    in_redis: int
    dead_lettered: int
    dead_letter_reasons: dict
    lost: int
    lost_sample: list
    accepted_not_paid: int
    published_not_paid: int
    in_redis_not_paid: int

    def as_dict(self) -> dict:
        return asdict(self)


def missing(db: DatabaseView, in_redis: frozenset[int], dlq: TopicView) -> frozenset[int]:
    return db.paid - in_redis - dlq.orders


def verdict(database_url: str, brokers: str, topic: str, dlq_topic: str, redis_url: str, accepted: set[int],
            id_offset: int) -> Verdict:
    db = read_database(database_url)
    main, dlq = read_topic(brokers, topic), read_topic(brokers, dlq_topic)
    in_redis = read_redis(redis_url, db.paid)
    lost = missing(db, in_redis, dlq)
    return Verdict(
        paid=len(db.paid), outbox_rows=db.outbox_rows, outbox_published=db.outbox_published,
        paid_without_outbox_row=len(db.paid - db.outbox_orders),
        published_records=main.records, published_distinct=len(main.event_ids),
        duplicates=main.records - len(main.event_ids), in_redis=len(in_redis & db.paid),
        dead_lettered=len(dlq.orders & db.paid), dead_letter_reasons=dict(dlq.reasons),
        lost=len(lost), lost_sample=sorted(lost)[:20], accepted_not_paid=len(accepted - db.paid),
        published_not_paid=len(main.orders - db.paid), in_redis_not_paid=len(keys_in_range(redis_url, id_offset) - db.paid),
    )


def wait_until_delivered(database_url: str, brokers: str, dlq_topic: str, redis_url: str, timeout_s: float) -> float | None:
    """Seconds until every PAID order is in Redis or dead-lettered; None if not within `timeout_s`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            db = read_database(database_url)
            in_redis = read_redis(redis_url, db.paid)
            if not missing(db, in_redis, TopicView(0, Counter(), frozenset())):  # the DLQ is read only when needed
                return time.monotonic() - started
            if not missing(db, in_redis, read_topic(brokers, dlq_topic, timeout_s=10)):
                return time.monotonic() - started
        except Exception:  # a component may still be coming back; keep polling until the deadline
            pass
        time.sleep(0.5)
    return None
