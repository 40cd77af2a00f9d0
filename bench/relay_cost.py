"""What the relay costs PostgreSQL, itself and the broker per event at a steady rate, and its latency.

Per rate (default 100/s and 500/s) and round: a writer in this process inserts one outbox row per
transaction (one autocommitted INSERT), paced, after a one-second warm-up, for `--seconds`; the relay runs as its own process (`outbox-relay`, the
RELAY_ environment plus `--setting`s) on a database and a topic of the bench's own; the topic
stamps each record with the broker's clock (`message.timestamp.type=LogAppendTime`). Reported:

- commit -> Kafka p50/p95/p99: LogAppendTime of each record against `pg_xact_commit_timestamp`
  of its writer's transaction (both clocks are this machine's);
- CPU seconds per 10,000 events, from /proc, between the writer's first insert and the moment
  nothing is pending: the relay process; all of PostgreSQL (the postmaster, its live backends and
  what its exited children used: the writer's own inserts are in it, as they would be under any
  publisher); the broker's JVM;
- the same writer with no relay running, just before (PostgreSQL's floor), and what the relay adds
  to PostgreSQL above it;
- PostgreSQL's CPU per `SELECT 1` sent at the same rate by an otherwise idle session: on this
  machine waking a backend costs about as much as a drain's own work, so it is the unit to read
  the relay's share in;
- drains per second, rows per drain and drains that found nothing (the relay's own counters).

Each figure is reported as median and range over `--rounds` rounds (rates alternate within a round).

With `--publishers relay,debezium` Debezium's Outbox Event Router (bench/cdc.py) publishes the same
rows in the same run, rounds alternating, measured the same way (its Connect JVM is "relay CPU").

    python -m bench.relay_cost [--rates 100,500] [--seconds 30] [--rounds 3] [--setting RELAY_X=V ...]
                               [--publishers relay|debezium|relay,debezium]
"""
import json
import re
import time
import uuid
from pathlib import Path
from urllib.request import urlopen

import click
import numpy as np
import psycopg2
from kafka import KafkaConsumer, TopicPartition

from bench.cdc import CdcUnavailable, Debezium, require_logical
from bench.messages import order_processed
from bench.relay_drain import fresh_database
from common.kafka_admin import delete_topics, ensure_topics
from common.kafka_connection import connection_to
from harness import database
from harness.cpu import cpu_seconds, tree_cpu_seconds
from harness.services import ServiceProcess, free_port
from harness.stack import pid_of
from harness.stats import median_spread
from harness.waiting import wait_for
from outbox_relay.config import Settings
from outbox_relay.wakeup import libpq_dsn

ROOT = Path(__file__).resolve().parent.parent
ORDER_ID_BASE = 8_000_000_000_000
_INSERT = (
    "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload, headers) "
    "VALUES (gen_random_uuid(), 'order', %s, 'order.processed', %s, %s, '{}') RETURNING txid_current()"
)


def payload(order_id: int) -> str:
    return json.dumps(order_processed(order_id, user_id=7 + order_id % 100))


def relay_metrics(port: int) -> dict[str, float]:
    with urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    values = {}
    for name in ('outbox_relay_drains_total{found="rows"}', 'outbox_relay_drains_total{found="nothing"}',
                 "outbox_relay_batch_size_count", "outbox_relay_batch_size_sum"):
        match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
        values[name] = float(match.group(1)) if match else 0.0
    return values


def start_relay(database_url: str, settings: dict[str, str], log_path: Path) -> tuple[ServiceProcess, int]:
    """`outbox-relay` on the bench's database, its log beside the results; and its metrics port."""
    port = free_port()
    relay = ServiceProcess("outbox-relay", {"DATABASE_URL": database_url, "RELAY_METRICS_PORT": str(port), **settings},
                           f"http://127.0.0.1:{port}/metrics", log_path=log_path)
    return relay.start(), port


def write_steadily(dsn: str, topic: str, rate: float, seconds: float, first_order: int) -> list[int]:
    """One row per transaction (a single autocommitted INSERT) at `rate` per second, each at its
    scheduled moment (open loop); returns each transaction's id."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    xids = []
    try:
        cursor = conn.cursor()
        started = time.perf_counter()
        for n in range(int(rate * seconds)):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)  # pacing the load, not waiting for a condition
            order_id = first_order + n
            cursor.execute(_INSERT, (str(order_id), topic, payload(order_id)))
            xids.append(cursor.fetchone()[0])
    finally:
        conn.close()
    return xids


def truncate(dsn: str) -> None:
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute("TRUNCATE outbox, outbox_retry")
    finally:
        conn.close()


def writer_alone(dsn: str, rate: float, seconds: float) -> float:
    """PostgreSQL CPU per 10,000 events of the writer with no relay running: the floor every
    publisher's figure sits on (the NOTIFY trigger fires, nobody listens)."""
    truncate(dsn)
    postmaster = pid_of("postgres")
    before = tree_cpu_seconds(postmaster, with_exited_children=True)
    events = len(write_steadily(dsn, "bench-relay-cost-unpublished", rate, seconds, ORDER_ID_BASE))
    spent = tree_cpu_seconds(postmaster, with_exited_children=True) - before
    truncate(dsn)
    return round(spent * 10_000 / events, 2)


def statement_alone(dsn: str, rate: float, seconds: float) -> float:
    """PostgreSQL CPU milliseconds of one `SELECT 1` sent at `rate` per second by a session that
    waits between them: what waking a backend costs on this machine, the unit a drain pays a few
    times over (BEGIN, the claim, COMMIT, and the NOTIFY's delivery to the listening session)."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    postmaster = pid_of("postgres")
    statements = int(rate * seconds)
    try:
        cursor = conn.cursor()
        before = tree_cpu_seconds(postmaster, with_exited_children=True)
        started = time.perf_counter()
        for n in range(statements):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)  # pacing the load, not waiting for a condition
            cursor.execute("SELECT 1")
        spent = tree_cpu_seconds(postmaster, with_exited_children=True) - before
    finally:
        conn.close()
    return round(spent * 1000 / statements, 3)


def wait_until_published(dsn: str, timeout: float) -> None:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        wait_for(lambda: _pending(conn) == 0, timeout=timeout, interval=0.02, what="every row published by the relay")
    finally:
        conn.close()


def _pending(conn) -> int:
    with conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return cursor.fetchone()[0]


def commit_times(dsn: str, xids: list[int]) -> dict[int, float]:
    """Transaction id -> its commit time (epoch seconds)."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT x, extract(epoch FROM pg_xact_commit_timestamp((x %% 4294967296)::text::xid))::float8 "
                "FROM unnest(%s::bigint[]) AS x", (xids,))
            return dict(cursor.fetchall())
    finally:
        conn.close()


def append_times(brokers: str, topic: str, expected: int, timeout: float = 60) -> list[tuple[int, float]]:
    """(orderId, LogAppendTime in epoch seconds) of every record of the topic."""
    consumer = KafkaConsumer(**connection_to(brokers).client_options(), enable_auto_commit=False, consumer_timeout_ms=1000)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        found = []
        deadline = time.monotonic() + timeout
        while len(found) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500, max_records=10_000).values():
                found += [(int(record.key), record.timestamp / 1000) for record in records]
        return found
    finally:
        consumer.close()


def wait_until_in_topic(brokers: str, topic: str, expected: int, timeout: float) -> None:
    """Until the topic holds `expected` records (Debezium marks nothing in the outbox)."""
    consumer = KafkaConsumer(**connection_to(brokers).client_options())
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        wait_for(lambda: sum(consumer.end_offsets(partitions).values()) >= expected, timeout=timeout, interval=0.02,
                 what=f"{expected} records on {topic}")
    finally:
        consumer.close()


class RelayPublisher:
    """The relay under test: `outbox-relay` as its own process, started for each rate."""

    name = "relay"

    def __init__(self, url: str, relay_settings: dict, log_path: Path):
        self.url, self.relay_settings, self.log_path = url, relay_settings, log_path

    def __enter__(self) -> "RelayPublisher":
        self.process, self.port = start_relay(self.url, self.relay_settings, self.log_path)
        return self

    def __exit__(self, *_exc) -> None:
        self.process.stop(timeout=30)

    @property
    def pid(self) -> int:
        return self.process.process.pid

    def metrics(self) -> dict[str, float]:
        return relay_metrics(self.port)

    def wait_until_delivered(self, settings: Settings, topic: str, expected: int, timeout: float) -> None:
        wait_until_published(libpq_dsn(self.url), timeout)


class DebeziumPublisher:
    """Debezium's Outbox Event Router (bench/cdc.py), streaming from a slot of its own."""

    name = "debezium"

    def __init__(self, url: str, brokers: str, log_path: Path):
        self.debezium = Debezium(url, brokers, log_path.parent / "debezium-work", log_path.parent / "debezium.log")

    def __enter__(self) -> "DebeziumPublisher":
        self.debezium.start()
        self.delivered = 0
        return self

    def __exit__(self, *_exc) -> None:
        self.debezium.stop()

    @property
    def pid(self) -> int:
        return self.debezium.pid

    def metrics(self) -> dict[str, float]:
        return {}

    def wait_until_delivered(self, settings: Settings, topic: str, expected: int, timeout: float) -> None:
        wait_until_in_topic(settings.kafka_brokers, topic, expected, timeout)


def one_rate(settings: Settings, url: str, rate: float, seconds: float, publisher) -> dict:
    """One rate with a running publisher (the relay, or Debezium) on a topic of its own."""
    dsn = libpq_dsn(url)
    topic = f"bench-relay-cost-{uuid.uuid4().hex[:8]}"
    ensure_topics(settings.kafka_brokers, [(topic, 6)], configs={"message.timestamp.type": "LogAppendTime"})
    truncate(dsn)
    first_order = ORDER_ID_BASE + int(time.time() * 1000) % 1_000_000 * 1000
    # warm-up: the producer's metadata of the topic, the pool, the prepared claim
    warm_up = len(write_steadily(dsn, topic, rate, 1.0, first_order - 100_000))
    publisher.wait_until_delivered(settings, topic, warm_up, timeout=60)
    postmaster, broker = pid_of("postgres"), pid_of("kafka")
    metrics_before = publisher.metrics()
    cpu_before = (cpu_seconds(publisher.pid), tree_cpu_seconds(postmaster, with_exited_children=True), cpu_seconds(broker))
    started = time.monotonic()
    xids = write_steadily(dsn, topic, rate, seconds, first_order)
    publisher.wait_until_delivered(settings, topic, warm_up + len(xids), timeout=120)
    elapsed = time.monotonic() - started
    cpu_after = (cpu_seconds(publisher.pid), tree_cpu_seconds(postmaster, with_exited_children=True), cpu_seconds(broker))
    metrics_after = publisher.metrics()
    try:
        commits = commit_times(dsn, xids)
        appended = append_times(settings.kafka_brokers, topic, len(xids) + warm_up)
    finally:
        delete_topics(settings.kafka_brokers, topic)
    commit_by_order = {first_order + n: commits[xid] for n, xid in enumerate(xids)}
    latencies = [(appended_at - commit_by_order[order]) * 1000 for order, appended_at in appended if order in commit_by_order]
    events = len(xids)
    per_10k = 10_000 / events
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99]) if latencies else (None, None, None)
    result = {
        "rate": rate, "events": events, "received": len(latencies), "seconds": round(elapsed, 1),
        "commit_to_kafka_p50_ms": round(float(p50), 2), "commit_to_kafka_p95_ms": round(float(p95), 2),
        "commit_to_kafka_p99_ms": round(float(p99), 2),
        "relay_cpu_s_per_10k": round((cpu_after[0] - cpu_before[0]) * per_10k, 2),
        "postgres_cpu_s_per_10k": round((cpu_after[1] - cpu_before[1]) * per_10k, 2),
        "broker_cpu_s_per_10k": round((cpu_after[2] - cpu_before[2]) * per_10k, 2),
    }
    if metrics_after:
        drains = {key: metrics_after[key] - metrics_before[key] for key in metrics_after}
        with_rows = drains['outbox_relay_drains_total{found="rows"}']
        result |= {
            "drains_per_s": round((with_rows + drains['outbox_relay_drains_total{found="nothing"}']) / elapsed, 1),
            "empty_drains_per_s": round(drains['outbox_relay_drains_total{found="nothing"}'] / elapsed, 1),
            "rows_per_drain": round(events / with_rows, 2) if with_rows else None,
        }
    return result


FIGURES = ("commit_to_kafka_p50_ms", "commit_to_kafka_p95_ms", "commit_to_kafka_p99_ms", "relay_cpu_s_per_10k",
           "postgres_cpu_s_per_10k", "writer_alone_postgres_cpu_s_per_10k", "relay_postgres_cpu_s_per_10k",
           "postgres_ms_per_idle_statement",
           "broker_cpu_s_per_10k", "drains_per_s", "empty_drains_per_s", "rows_per_drain")


def run(rates: tuple[float, ...] = (100.0, 500.0), seconds: float = 30.0, rounds: int = 3,
        relay_settings: dict[str, str] | None = None, log_dir: Path | None = None,
        publishers: tuple[str, ...] = ("relay",)) -> dict:
    """Per round: the writer alone (the floor), then each publisher at each rate; the publishers'
    order alternates from round to round. Debezium runs once per round for all rates (its JVM
    takes tens of seconds to start) and never beside the relay (its walsender would be counted)."""
    base = Settings()
    name, url = fresh_database(base.database_url)
    log_path = (log_dir or ROOT / "bench" / "results" / "logs") / "relay_cost.log"
    if "debezium" in publishers:
        require_logical(libpq_dsn(url))
    runs: dict[str, dict[float, list[dict]]] = {publisher: {rate: [] for rate in rates} for publisher in publishers}
    floors: dict[float, list[float]] = {rate: [] for rate in rates}
    statements: dict[float, list[float]] = {rate: [] for rate in rates}
    try:
        for round_number in range(rounds):
            for rate in rates:
                floors[rate].append(writer_alone(libpq_dsn(url), rate, min(seconds, 10.0)))
                statements[rate].append(statement_alone(libpq_dsn(url), rate, min(seconds, 10.0)))
            order = publishers if round_number % 2 == 0 else tuple(reversed(publishers))
            for publisher in order:
                if publisher == "debezium":
                    with DebeziumPublisher(url, base.kafka_brokers, log_path) as running:
                        for rate in rates:
                            runs[publisher][rate].append(one_rate(base, url, rate, seconds, running))
                else:
                    for rate in rates:
                        with RelayPublisher(url, relay_settings or {}, log_path) as running:
                            runs[publisher][rate].append(one_rate(base, url, rate, seconds, running))
            for publisher in publishers:
                for rate in rates:
                    result = runs[publisher][rate][-1]
                    result["writer_alone_postgres_cpu_s_per_10k"] = floors[rate][-1]
                    result["relay_postgres_cpu_s_per_10k"] = round(result["postgres_cpu_s_per_10k"] - floors[rate][-1], 2)
                    result["postgres_ms_per_idle_statement"] = statements[rate][-1]
    finally:
        database.drop_database(base.database_url, name)
    summary = {
        publisher: {str(int(rate)): {"summary": {key: median_spread(results, key) for key in FIGURES if key in results[0]},
                                     "runs": results}
                    for rate, results in by_rate.items()}
        for publisher, by_rate in runs.items()
    }
    return {"seconds": seconds, "rounds": rounds, "settings": relay_settings or {},
            "rates": summary[publishers[0]], "publishers": summary}


def can_run_debezium() -> bool:
    try:
        require_logical(libpq_dsn(Settings().database_url))
    except CdcUnavailable:
        return False
    return True


def with_trade_ends(rates: tuple[float, ...], seconds: float, rounds: int, ends=(0, 25)) -> dict:
    """The default run (beside Debezium when PostgreSQL is logical), and the settings that trade
    latency for PostgreSQL's CPU at their ends, each in the same run: RELAY_LISTEN_AFTER_QUIET_MS=0
    (the relay listens before every drain instead of looking every interval while rows flow: each
    payment's NOTIFY wakes a backend, and each drain pays its own commit) and
    RELAY_MIN_DRAIN_INTERVAL_MS (how often it looks, and at most drains, while rows flow)."""
    publishers = ("relay", "debezium") if can_run_debezium() else ("relay",)
    default = run(rates, seconds, rounds, publishers=publishers)
    result = {"default": default}
    if "debezium" in publishers:
        result["Debezium (tuned)"] = {**default, "rates": default["publishers"]["debezium"]}
    result["RELAY_LISTEN_AFTER_QUIET_MS=0"] = run(rates, seconds / 2, rounds, {"RELAY_LISTEN_AFTER_QUIET_MS": "0"})
    for interval in ends:
        result[f"RELAY_MIN_DRAIN_INTERVAL_MS={interval}"] = run(
            rates, seconds / 2, rounds, {"RELAY_MIN_DRAIN_INTERVAL_MS": str(interval)})
    return result


def _setting(_ctx, _param, values: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for value in values:
        key, sep, setting = value.partition("=")
        if not sep or not key.startswith("RELAY_"):
            raise click.BadParameter(f"{value!r}: expected RELAY_NAME=value")
        settings[key] = setting
    return settings


@click.command()
@click.option("--rates", default="100,500", show_default=True, help="Rows per second, comma-separated.")
@click.option("--seconds", default=30.0, show_default=True, help="Writing time per rate and round.")
@click.option("--rounds", default=3, show_default=True)
@click.option("--setting", "settings", multiple=True, callback=_setting, help="RELAY_NAME=value for the relay.")
@click.option("--publishers", default="relay", show_default=True, type=click.Choice(["relay", "debezium", "relay,debezium"]),
              help="What publishes the outbox; debezium needs PostgreSQL with wal_level=logical (bench/cdc.py).")
@click.option("--json", "as_json", is_flag=True, help="The whole result, every round, as JSON.")
def main(rates: str, seconds: float, rounds: int, settings: dict[str, str], publishers: str, as_json: bool) -> None:
    try:
        result = run(tuple(float(rate) for rate in rates.split(",")), seconds, rounds, settings,
                     publishers=tuple(publishers.split(",")))
    except CdcUnavailable as error:
        raise click.UsageError(str(error)) from None
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for publisher, by_rate in result["publishers"].items():
        for rate, figures in by_rate.items():
            click.echo(f"{publisher}, {rate} rows/s")
            for key, spread in figures["summary"].items():
                click.echo(f"  {key:36} {spread['median']:>9}  ({spread['min']} - {spread['max']})")


if __name__ == "__main__":
    main()
