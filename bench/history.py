"""A published history in the outbox, grown in place, and what the relay's statements cost on it.

`grow` adds published rows server-side (INSERT ... SELECT generate_series, one transaction per
million rows), each with `created_at` spread over the past week in id order and `published_at` a
few milliseconds later, all inside RELAY_RETENTION_HOURS' default of 168 h, so no retention run
deletes them meanwhile; then VACUUM ANALYZE, as autovacuum would have done by then. Payloads are
the same shape and size as a payment's.
"""
import statistics
import time

import psycopg2
from sqlalchemy import Engine, text

from bench.messages import ORDER_PROCESSED_SQL
from outbox_relay.claim import EXECUTE_SQL, PREPARE_SQL
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


def grow(engine: Engine, topic: str, have: int, want: int) -> float:
    """Add published rows until the history holds `want` (it holds `have`); returns the seconds taken."""
    started = time.perf_counter()
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


def sizes(engine: Engine) -> dict:
    """Bytes of the outbox's heap (with TOAST), of each index, and in all, and its live rows."""
    with engine.connect() as conn:
        indexes = dict(conn.execute(text(
            "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
            "WHERE indrelid = 'outbox'::regclass ORDER BY 1")).all())
        heap, total, rows = conn.execute(text(
            "SELECT pg_table_size('outbox'), pg_total_relation_size('outbox'), "
            "(SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'outbox')")).one()
    return {"heap_bytes": heap, "total_bytes": total, "index_bytes": indexes, "live_rows": rows}


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
    wall milliseconds, EXPLAIN (ANALYZE, BUFFERS) execution milliseconds, and the last plan."""
    conn = psycopg2.connect(libpq_dsn(database_url), options="-c plan_cache_mode=force_generic_plan")
    walls, executions, plan = [], [], []
    try:
        with conn.cursor() as cursor:
            cursor.execute(PREPARE_SQL)
            conn.commit()
            for n in range(times):
                started = time.perf_counter()
                cursor.execute(EXECUTE_SQL, (after_id + 2 * n * batch, batch))
                claimed = len(cursor.fetchall())
                walls.append((time.perf_counter() - started) * 1000)
                conn.rollback()
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + EXECUTE_SQL, (after_id + (2 * n + 1) * batch, batch))
                plan = [line for (line,) in cursor.fetchall()]
                conn.rollback()
                executions.append(float(next(l for l in plan if l.startswith("Execution Time")).split()[2]))
    finally:
        conn.close()
    return {"rows_claimed": claimed, "claim_ms": round(statistics.median(walls), 2),
            "claim_ms_runs": [round(w, 2) for w in walls], "explain_execution_ms": round(statistics.median(executions), 2),
            "plan": plan}


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
