"""Retention on the partitioned outbox (migration 0005): pg_partman drops whole days, never one that
still holds a pending row, and a payment never waits longer than the partition lock timeout."""
import re
import threading
import time

import pytest

from sqlalchemy import text

from harness.services import ServiceProcess
from harness.waiting import wait_for
from outbox_relay.claim import PARTITIONED
from outbox_relay.partitions import PartitionLockBusy, maintain
from tests.integration.relay.conftest import relay_process_env
from tests.integration.relay.outbox_rows import pending_count, write_event, write_events

INSERT_ON_DAY = text(
    "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload, created_at, published_at)"
    " SELECT gen_random_uuid(), 'order', 'old-' || g, 'order.processed', 't', '{}', d.at,"
    "   CASE WHEN :published THEN d.at + interval '1 second' END"
    " FROM generate_series(1, :rows) AS g, (SELECT date_trunc('day', now()) - make_interval(days => :days) + interval '1 hour' AS at) AS d"
    " RETURNING id"
)



@pytest.fixture
def outbox_layout() -> str:
    return "partitioned"

def rows_on_day(engine, days_ago: int, rows: int, published: bool = True) -> list[int]:
    """`rows` rows in the daily partition `days_ago` days before today (made first, as pg_partman would have)."""
    with engine.begin() as conn:
        conn.execute(text(
            "SELECT partman.create_partition_time('public.outbox', ARRAY[date_trunc('day', now()) - make_interval(days => :days)])"
        ), {"days": days_ago})
        return [row_id for (row_id,) in conn.execute(INSERT_ON_DAY, {"rows": rows, "days": days_ago, "published": published})]


def partition_of(engine, row_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT tableoid::regclass::text FROM outbox WHERE id = :id"), {"id": row_id}).scalar_one()


def partitions(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT relid::text FROM pg_partition_tree('outbox') WHERE isleaf")).scalars())


def explain_claim(engine, limit: int) -> list[str]:
    """The relay's partitioned claim under EXPLAIN (ANALYZE, BUFFERS), generic plan as the relay runs it, rolled back."""
    with engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql(PARTITIONED.prepare_sql)
        plan = [line for (line,) in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + PARTITIONED.execute_sql, (0, limit))]
        conn.rollback()
    return plan


def lock_waiters(engine) -> int:
    """Sessions of this database waiting for a lock."""
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )).scalar_one()


def outbox_ids(engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT id FROM outbox")).scalars())


def test_a_day_past_the_retention_is_dropped_with_its_rows_but_one_holding_a_pending_row_stays(relay_engine, relay_topic):
    published_day = rows_on_day(relay_engine, 5, 3)
    mixed_day = rows_on_day(relay_engine, 4, 2) + rows_on_day(relay_engine, 4, 1, published=False)
    write_events(relay_engine, relay_topic, [1])
    dropped, kept = partition_of(relay_engine, published_day[0]), partition_of(relay_engine, mixed_day[0])
    pending_before = pending_count(relay_engine)

    done = maintain(relay_engine, retention_hours=48, lock_timeout_ms=2000)

    assert done.dropped == [dropped] and done.kept == [kept]
    assert dropped not in partitions(relay_engine) and kept in partitions(relay_engine)
    assert not set(published_day) & outbox_ids(relay_engine)
    assert set(mixed_day) <= outbox_ids(relay_engine)
    assert pending_count(relay_engine) == pending_before == 2


def test_retry_rows_of_dropped_rows_go_with_them(relay_engine, relay_topic):
    old = rows_on_day(relay_engine, 5, 1)[0]
    write_events(relay_engine, relay_topic, [1])
    with relay_engine.begin() as conn:
        pending = conn.execute(text("SELECT max(id) FROM outbox")).scalar_one()
        conn.execute(text("INSERT INTO outbox_retry VALUES (:old, now()), (:pending, now())"), {"old": old, "pending": pending})

    assert maintain(relay_engine, retention_hours=48, lock_timeout_ms=2000).orphan_retries_deleted == 1

    with relay_engine.connect() as conn:
        assert list(conn.execute(text("SELECT outbox_id FROM outbox_retry")).scalars()) == [pending]


def test_a_payment_waits_no_longer_than_the_lock_timeout_while_a_drop_waits_for_its_lock(relay_engine, relay_topic):
    old = rows_on_day(relay_engine, 5, 1)[0]
    holder = relay_engine.connect()
    holder.begin()
    write_event(holder, relay_topic, 1)  # an open transaction holding a lock on outbox, as a slow payment would
    outcome = {}

    def drop() -> None:
        try:
            maintain(relay_engine, retention_hours=48, lock_timeout_ms=300)
        except PartitionLockBusy as busy:
            outcome["busy"] = busy

    dropper = threading.Thread(target=drop)
    try:
        dropper.start()
        # the drop now waits for its lock, and a payment's insert would queue behind it
        wait_for(lambda: lock_waiters(relay_engine) >= 1, timeout=5, interval=0.01, what="the drop waiting for its lock")
        started = time.perf_counter()
        write_events(relay_engine, relay_topic, [2])
        waited = time.perf_counter() - started
        dropper.join(timeout=10)
    finally:
        holder.commit()
        holder.close()

    assert "busy" in outcome, "the drop gave up when its lock did not come in time"
    assert waited < 1.0, f"the payment waited {waited:.2f} s"
    assert old in outbox_ids(relay_engine), "nothing was dropped"
    assert maintain(relay_engine, retention_hours=48, lock_timeout_ms=2000).dropped, "the next turn drops it"


def test_the_claim_reads_only_the_partitions_that_hold_pending_rows(relay_engine, relay_topic):
    rows_on_day(relay_engine, 3, 2000)
    write_events(relay_engine, relay_topic, list(range(20)))
    with relay_engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE outbox")
        today = conn.execute(text("SELECT DISTINCT tableoid::regclass::text FROM outbox WHERE published_at IS NULL")).scalar_one()
    plan = explain_claim(relay_engine, limit=500)

    text_plan = "\n".join(plan)
    assert "rows=20 loops=1" in text_plan, text_plan
    # the bounds themselves (min and max created_at of pending rows) probe each partition's small partial index
    scans = [line for line in plan if "Scan" in line and re.search(r" on outbox_(p[0-9_]+|default) ", line) and " pending_" not in line]
    others = [line for line in scans if f" on {today} " not in line]
    pruned = [line for line in others if "never executed" in line]
    assert len(pruned) >= 2 * 8, text_plan  # the per-key probe and the mark, in the days behind and ahead
    # the scan for candidates looks into every day's pending index once (unbounded on purpose, claim.py)
    # and finds nothing there
    assert all(re.search(r"actual time=\S+ rows=0 loops=1\)", line) for line in others if line not in pruned), text_plan


def test_the_claim_walks_the_pending_rows_in_id_order_up_to_its_limit_whatever_the_statistics(relay_engine):
    """With many pending rows in one day, a generic plan that bounded the scan for candidates by created_at
    fetched every pending row of the day through ix_outbox_pending_created_at and sorted them (20M-row
    bench.scale: 82,000 rows fetched for a 2,000-row claim, 200 of its 280 ms). That plan was seen only
    with bench.scale's statistics; at this size the bounded claim of before passes too, so this checks
    the shape (no scan fetches more than the limit asks for), not that the flip is gone."""
    with relay_engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload, created_at, published_at)"
            " SELECT gen_random_uuid(), 'order', 'k-' || g, 'order.processed', 't', '{}',"
            "   now() - make_interval(secs => g / 1000.0), CASE WHEN g % 2 = 0 THEN now() END"
            " FROM generate_series(1, 40000) AS g"
        ))
    with relay_engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE outbox")
    plan = explain_claim(relay_engine, limit=500)

    text_plan = "\n".join(plan)
    assert "rows=500 loops=1" in text_plan, text_plan
    fetched = [int(match) for line in plan if "Scan" in line for match in re.findall(r"actual time=\S+ rows=(\d+) loops", line)]
    assert max(fetched) <= 1000, text_plan  # 20,000 rows are pending


def test_the_relay_drops_an_expired_day_while_it_publishes(relay_env, relay_engine, relay_topic):
    old = rows_on_day(relay_engine, 5, 3)
    expired = partition_of(relay_engine, old[0])
    env, health_url = relay_process_env(relay_env, RELAY_RETENTION_HOURS=48, RELAY_RETENTION_INTERVAL_SECONDS=0.5)
    relay = ServiceProcess("outbox-relay", env=env, health_url=health_url).start()
    try:
        for key in range(20):  # one row at a time, each published before the next: retention runs between
            write_events(relay_engine, relay_topic, [key])
            wait_for(lambda: pending_count(relay_engine) == 0, timeout=20, what=f"row {key} published")
        wait_for(lambda: expired not in partitions(relay_engine), timeout=20, what="the expired day dropped")
    finally:
        assert relay.stop() == 0


def test_a_maintenance_that_fails_is_logged_and_works_again_once_the_row_is_moved(relay_settings, relay_engine):
    from outbox_relay.database import build_engine
    from outbox_relay.housekeeping import Housekeeping

    with relay_engine.begin() as conn:  # a row in the default partition inside a day pg_partman is told to make
        conn.execute(text(
            "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload, created_at)"
            " VALUES (gen_random_uuid(), 'order', 'ahead', 'order.processed', 't', '{}', date_trunc('day', now()) + interval '9 days 1 hour')"))
        conn.execute(text("UPDATE partman.part_config SET premake = 10 WHERE parent_table = 'public.outbox'"))
    engine = build_engine(relay_settings)
    try:
        Housekeeping(relay_settings, engine).run_retention()  # does not raise
        with relay_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM outbox_default")).scalar_one() == 1, "nothing lost"
        with relay_engine.begin() as conn:  # what the README tells the operator to do
            conn.execute(text("SELECT partman.partition_data_time('public.outbox')"))
        Housekeeping(relay_settings, engine).run_retention()
    finally:
        engine.dispose()
    with relay_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox_default")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM outbox WHERE aggregateid = 'ahead'")).scalar_one() == 1
