"""A published history in the outbox, grown in place, and what the relay's statements cost on it.

`grow` adds published rows server-side (INSERT ... SELECT generate_series, one transaction per
million rows), each with `created_at` spread over the past week in id order and `published_at` a
few milliseconds later, all inside RELAY_RETENTION_HOURS' default of 168 h, so no retention run
deletes them meanwhile; then VACUUM ANALYZE, as autovacuum would have done by then. Payloads are
the same shape and size as a payment's. On the partitioned outbox (migration 0005) the past
week's daily partitions are made first (pg_partman's `create_partition_time`), so history lands in
them and not in the default partition.
"""
import re
import statistics
import time

import psycopg2
from sqlalchemy import Engine, text

from bench import outbox_stats
from bench.messages import ORDER_PROCESSED_SQL
from outbox_relay.claim import PARTITIONED, PLAIN
from outbox_relay.partitions import LAYOUT_SQL, PARENT, is_partitioned, maintain
from outbox_relay.retention import delete_published
from outbox_relay.wakeup import libpq_dsn

HISTORY_ORDER_BASE = 7_000_000_000_000
CHUNK = 1_000_000
_PUBLISHED = text(
    "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload, headers, created_at, published_at) "
    "SELECT gen_random_uuid(), 'order', (:base + g)::text, 'order.processed', :topic, " + ORDER_PROCESSED_SQL + ", '{}'::jsonb, "
    " at, at + interval '5 milliseconds' "
    "FROM generate_series(:first, :last) AS g, "
    " LATERAL (SELECT now() - make_interval(secs => :oldest_s - (g - :first)::float8 * :spread_s / :count)) AS t(at)"
)


_PAST_PARTITIONS = text(
    "SELECT partman.create_partition_time(:parent, ARRAY(SELECT generate_series(date_trunc('day', now() - interval '8 days'),"
    " now(), interval '1 day')), p_analyze => false)"
)


def grow(engine: Engine, topic: str, have: int, want: int) -> float:
    """Add published rows until the history holds `want` (it holds `have`); returns the seconds taken."""
    started = time.perf_counter()
    with engine.begin() as conn:
        if is_partitioned(conn):
            conn.execute(_PAST_PARTITIONS, {"parent": PARENT})
    for first in range(have + 1, want + 1, CHUNK):
        last = min(first + CHUNK - 1, want)
        # rows of this chunk from 167 h ago to 1 h ago, oldest first
        with engine.begin() as conn:
            conn.execute(_PUBLISHED, {"base": HISTORY_ORDER_BASE, "topic": topic, "first": first, "last": last,
                                      "oldest_s": 167 * 3600, "spread_s": 166 * 3600, "count": last - first + 1})
    vacuum(engine)
    return time.perf_counter() - started


def vacuum(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE outbox"))


# the outbox's tables holding rows: its partitions, or the plain table itself
_LEAVES = f"({outbox_stats.LEAVES})"


def sizes(engine: Engine) -> dict:
    """Bytes of the outbox's heap (with TOAST), of each index, and in all, and its live rows: summed
    over the partitions of the partitioned outbox."""
    with engine.connect() as conn:
        indexes = dict(conn.execute(text(
            "SELECT i.indexrelid::regclass::text, coalesce((SELECT sum(pg_relation_size(t.relid))"
            "   FROM pg_partition_tree(i.indexrelid) t WHERE t.isleaf), pg_relation_size(i.indexrelid))"
            " FROM pg_index i WHERE i.indrelid = 'outbox'::regclass ORDER BY 1")).all())
        heap, total, rows, partitions = conn.execute(text(
            "SELECT sum(pg_table_size(t.relid)), sum(pg_total_relation_size(t.relid)), sum(s.n_live_tup), count(*)"
            f" FROM {_LEAVES} AS t LEFT JOIN pg_stat_user_tables s ON s.relid = t.relid")).one()
    return {"heap_bytes": int(heap), "total_bytes": int(total), "index_bytes": {k: int(v) for k, v in indexes.items()},
            "live_rows": int(rows or 0), "partitions": partitions}


def dead_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(
            f"SELECT coalesce(sum(s.n_dead_tup), 0) FROM {_LEAVES} AS t JOIN pg_stat_user_tables s ON s.relid = t.relid")).scalar_one())


def last_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT coalesce(max(id), 0) FROM outbox")).scalar_one()


def forget_after(engine: Engine, after_id: int) -> None:
    """Delete rows above `after_id` (a drained backlog), so the history stays the size it was grown to."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM outbox WHERE id > :id"), {"id": after_id})


def explain_claim(database_url: str, batch: int, after_id: int, times: int = 5) -> dict:
    """The relay's own prepared claim (generic plan, as its sessions run it) on the pending rows
    above `after_id`, each time in a transaction rolled back and each time on a batch of its own (a
    rolled-back claim leaves dead row versions that the next claim of the same rows would walk):
    wall milliseconds, EXPLAIN (ANALYZE, BUFFERS, WAL) execution milliseconds, the last plan and its
    statement's buffer and WAL totals (`totals`)."""
    conn = psycopg2.connect(libpq_dsn(database_url), options="-c plan_cache_mode=force_generic_plan")
    walls, executions, plan = [], [], []
    try:
        with conn.cursor() as cursor:
            cursor.execute(LAYOUT_SQL)
            statement = PARTITIONED if cursor.fetchone()[0] else PLAIN
            cursor.execute(statement.prepare_sql)
            conn.commit()
            for n in range(times):
                started = time.perf_counter()
                cursor.execute(statement.execute_sql, (after_id + 2 * n * batch, batch))
                claimed = len(cursor.fetchall())
                walls.append((time.perf_counter() - started) * 1000)
                conn.rollback()
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, WAL) " + statement.execute_sql, (after_id + (2 * n + 1) * batch, batch))
                plan = [line for (line,) in cursor.fetchall()]
                conn.rollback()
                executions.append(float(next(l for l in plan if l.startswith("Execution Time")).split()[2]))
    finally:
        conn.close()
    return {"rows_claimed": claimed, "claim_ms": round(statistics.median(walls), 2),
            "claim_ms_runs": [round(w, 2) for w in walls], "explain_execution_ms": round(statistics.median(executions), 2),
            "partitions": partitions_in_plan(plan), "totals": plan_totals(plan), "plan": plan}


def plan_totals(plan: list[str]) -> dict:
    """The statement's buffers (shared hit/read/dirtied/written) and WAL (records, fpi = full-page
    images, bytes): the top node's lines, the first of each kind in EXPLAIN's text."""
    totals = {}
    for kind, prefix in (("buffers", "Buffers: shared "), ("wal", "WAL: ")):
        line = next((l.strip() for l in plan if l.strip().startswith(prefix)), "")
        totals[kind] = {k: int(v) for k, v in (pair.split("=") for pair in line[len(prefix):].split() if "=" in pair)}
    return totals


def partitions_in_plan(plan: list[str]) -> dict:
    """Scans of outbox partitions in a plan: how many nodes, and how many were pruned at run time
    (`never executed`) or at start-up (`Subplans Removed`)."""
    scans = [line for line in plan if re.search(r" on outbox_(p\d|default)", line) and "Scan" in line]
    removed = sum(int(line.split(":")[1]) for line in plan if "Subplans Removed" in line)
    return {"scan_nodes": len(scans), "never_executed": sum("never executed" in line for line in scans),
            "subplans_removed": removed}


_EXPIRED = text(
    "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload, headers, created_at, published_at) "
    "SELECT gen_random_uuid(), 'order', (:base + g)::text, 'order.processed', 'expired', " + ORDER_PROCESSED_SQL + ", '{}'::jsonb, "
    " now() - interval '170 hours', now() - interval '170 hours' FROM generate_series(1, :rows) AS g"
)


def retention_rate(engine: Engine, rows: int, batch_size: int = 1000) -> float:
    """Rows per second the relay's retention deletes, `rows` expired rows beside the history."""
    with engine.begin() as conn:
        conn.execute(_EXPIRED, {"base": HISTORY_ORDER_BASE * 2, "rows": rows})
    vacuum(engine)
    started = time.perf_counter()
    deleted = delete_published(engine, 168, batch_size, max_batches=rows // batch_size + 2)
    took = time.perf_counter() - started
    vacuum(engine)
    return round(deleted / took)


def retention_cost(engine: Engine, lock_timeout_ms: int = 5000) -> dict:
    """Removing the oldest day of history as retention does on this layout: on the plain table the
    relay's batched DELETE of the rows published before the end of that day, on the partitioned one
    pg_partman dropping that day's partition. Seconds taken, rows removed, dead row versions it left
    behind (for autovacuum; counted from a vacuumed table), and the seconds a VACUUM then takes."""
    with engine.connect() as conn:
        partitioned = is_partitioned(conn)
        # by published_at (created_at + 5 ms in the history): the plain table has an index on it, not on created_at
        day_end, rows = conn.execute(text(
            "SELECT e, (SELECT count(*) FROM outbox WHERE published_at IS NOT NULL AND published_at < e) FROM"
            " (SELECT date_trunc('day', min(published_at)) + interval '1 day' AS e FROM outbox"
            "  WHERE published_at IS NOT NULL) AS d")).one()
        age_hours = conn.execute(text("SELECT extract(epoch FROM now() - :e) / 3600"), {"e": day_end}).scalar_one()
    hours = float(age_hours) - 0.0001  # just inside the day's end
    vacuum(engine)
    time.sleep(1.5)  # cumulative statistics reach pg_stat_user_tables within a second
    dead_before = dead_rows(engine)
    started = time.perf_counter()
    if partitioned:
        dropped = maintain(engine, hours, lock_timeout_ms).dropped
        removed = rows if dropped else 0
    else:
        dropped = []
        removed = delete_published(engine, hours, 1000, max_batches=rows // 1000 + 2)
    took = time.perf_counter() - started
    time.sleep(1.5)  # cumulative statistics reach pg_stat_user_tables within a second
    dead = dead_rows(engine) - dead_before
    vacuum_started = time.perf_counter()
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM outbox"))
    return {"method": "partition drop (pg_partman)" if partitioned else "batched DELETE", "rows_removed": removed,
            "partitions_dropped": dropped, "seconds": round(took, 2),
            "rows_per_s": round(removed / took) if took > 0 else None, "dead_rows_left": dead,
            "vacuum_after_s": round(time.perf_counter() - vacuum_started, 2)}
