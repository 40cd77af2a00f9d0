"""Relay drain rate next to the raw kafka-python producer, same records, same broker, same run.

In each round a fresh backlog of N committed outbox rows, one per order, is written to a database
of the bench's own (one server-side INSERT ... SELECT). Then (1) a bare KafkaProducer, configured
as the relay's, sends the same records (key, value bytes, headers, read back from the table beforehand) to a fresh topic
and flushes; (2) the relay, in this process with its real claim, publish and mark code, drains the
backlog to another fresh topic until nothing is pending. Both clocks include creating the producer.
Relay settings (batch size, pipeline depth, linger, ...) come from the RELAY_ environment.
Both sides run under the relay process's interpreter settings (outbox_relay/interpreter.py:
GIL switch interval, garbage collector), restored after the stage.

    python -m bench.relay_drain [--rows 100000] [--rounds 3] [--batch-size N] [--partitions 6] [--profile out.html]
"""
import json
import os
import statistics
import time
import uuid

import click
from alembic import command
from sqlalchemy import create_engine, text

from bench.messages import ORDER_PROCESSED_SQL
from common.kafka_admin import delete_topics, ensure_topics
from harness import database
from outbox_relay import interpreter
from outbox_relay.bootstrap import build_relay
from outbox_relay.claim import claim_batch
from outbox_relay.config import Settings
from outbox_relay.publish import make_producer, record_headers

ORDER_ID_BASE = 9_000_000_000_000

_BACKLOG = text(
    "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload, headers) "
    "SELECT gen_random_uuid(), 'order', (:base + g)::text, 'order.processed', :topic, "
    + ORDER_PROCESSED_SQL + ", '{}'::jsonb "
    "FROM generate_series(1, :rows) AS g"
)


def fresh_database(base_url: str, revision: str = "head", outbox_layout: str | None = None) -> tuple[str, str]:
    name = f"outbox_bench_relay_{uuid.uuid4().hex[:8]}"
    url = create_engine(base_url).url.set(database=name).render_as_string(hide_password=False)
    database.create_database(base_url, name)
    command.upgrade(database.alembic_config(url, outbox_layout), revision)
    return name, url



def write_backlog(url: str, topic: str, rows: int) -> float:
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(_BACKLOG, {"base": ORDER_ID_BASE, "topic": topic, "rows": rows})
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE outbox"))
    engine.dispose()
    return time.perf_counter() - started


def the_same_records(url: str, rows: int) -> list:
    engine = create_engine(url)
    with engine.connect() as conn, conn.begin():
        claimed = claim_batch(conn, rows)
        conn.rollback()
    engine.dispose()
    return [(row.aggregateid.encode(), row.payload.encode(), record_headers(row)) for row in claimed]


def raw_producer_seconds(settings: Settings, topic: str, records: list) -> float:
    started = time.perf_counter()
    producer = make_producer(settings)
    for key, value, headers in records:
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush()
    took = time.perf_counter() - started
    producer.close()
    return took


def relay_seconds(settings: Settings, profile: str | None) -> float:
    relay = build_relay(settings)
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    started = time.perf_counter()
    relay.drain()
    took = time.perf_counter() - started
    if profiler:
        profiler.stop()
        with open(profile, "w") as out:
            out.write(profiler.output_text(unicode=True) if profile.endswith(".txt") else profiler.output_html())
    with relay.engine.connect() as conn:
        pending = conn.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar_one()
    relay.close()
    assert pending == 0, f"{pending} rows left pending"
    return took


def one_round(settings: Settings, raw_topic: str, relay_topic: str, rows: int, profile: str | None) -> dict:
    engine = create_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE outbox, outbox_retry"))
    engine.dispose()
    insert_seconds = write_backlog(settings.database_url, relay_topic, rows)
    raw = raw_producer_seconds(settings, raw_topic, the_same_records(settings.database_url, rows))
    relay = relay_seconds(settings, profile)
    return {"backlog_insert_s": round(insert_seconds, 2), "raw_s": round(raw, 2), "relay_s": round(relay, 2),
            "raw_events_per_s": round(rows / raw), "relay_events_per_s": round(rows / relay),
            "ratio": round(raw / relay, 3)}


def run(rows: int = 100_000, rounds: int = 3, batch_size: int | None = None, partitions: int = 6,
        profile: str | None = None) -> dict:
    """Rounds alternate raw producer and relay on fresh backlogs; the best of each counters the
    noise of a shared machine, the per-round ratios show the spread."""
    base = Settings()
    name, url = fresh_database(base.database_url)
    raw_topic, relay_topic = (f"bench-relay-{kind}-{uuid.uuid4().hex[:8]}" for kind in ("raw", "drain"))
    settings = base.model_copy(update={"database_url": url, "batch_size": batch_size or base.batch_size})
    try:
        ensure_topics(base.kafka_brokers, [(raw_topic, partitions), (relay_topic, partitions)])
        with interpreter.tuned():
            results = [one_round(settings, raw_topic, relay_topic, rows, profile if n == 0 else None) for n in range(rounds)]
    finally:
        database.drop_database(base.database_url, name)
        for topic in (raw_topic, relay_topic):
            delete_topics(base.kafka_brokers, topic)
    best_raw = max(result["raw_events_per_s"] for result in results)
    best_relay = max(result["relay_events_per_s"] for result in results)
    return {
        "rows": rows,
        "partitions": partitions,
        "batch_size": settings.batch_size,
        "linger_ms": settings.linger_ms,
        "producer_batch_size": settings.producer_batch_size,
        "cpus": os.cpu_count(),
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "rounds": results,
        "raw_producer_events_per_s": best_raw,
        "relay_events_per_s": best_relay,
        "relay_to_raw_ratio": round(best_relay / best_raw, 3),
        "median_round_ratio": statistics.median(result["ratio"] for result in results),
    }


@click.command()
@click.option("--rows", default=100_000, show_default=True)
@click.option("--rounds", default=3, show_default=True)
@click.option("--batch-size", type=int, default=None, help="Default: RELAY_BATCH_SIZE.")
@click.option("--partitions", default=6, show_default=True)
@click.option("--profile", default=None, help="Write a pyinstrument HTML profile of the relay drain here.")
def main(rows: int, rounds: int, batch_size: int | None, partitions: int, profile: str | None) -> None:
    click.echo(json.dumps(run(rows, rounds, batch_size, partitions, profile), indent=2))


if __name__ == "__main__":
    main()
