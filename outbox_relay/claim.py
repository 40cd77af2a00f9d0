"""Claiming pending outbox rows: in id order, in batches, never two rows of one key at once.

A claim locks its rows and, in the same statement, sets their `published_at` inside the claiming
transaction. Nobody else sees that mark until the transaction commits, and the runner commits
only after the broker acknowledged the records (`mark.py` turns the mark back for the rows it did
not); a crash rolls it back. So the mark costs nothing on the way from acknowledgement to commit,
which is what lets one batch at a time be as fast as several in flight. `published_at` thus holds
the moment the row was claimed for the publish the broker acknowledged (a few milliseconds, at
most the delivery timeout, before the acknowledgement).

Per-key order. A row is eligible only if no older row of the same `aggregateid` is still
unpublished; eligible rows are locked with `FOR UPDATE SKIP LOCKED`, oldest first. So the
next row of a key can be claimed only after the transaction that marked its predecessor
published has committed, and that commit comes only after the broker acknowledged it.
Hence every key's records reach Kafka in outbox id order (counting first deliveries).

Why it holds with several relays: the rule is evaluated against committed rows in PostgreSQL,
not against any relay's memory. A relay holding row n of a key keeps it locked (others skip it)
and unpublished (so row n+1 stays ineligible for everyone) until it commits. A snapshot that
still sees n unpublished only makes n+1 ineligible for one more round; a relay that locks n
after another committed it re-checks `published_at IS NULL` on the newest version and drops it.

Why it holds through crashes: a relay killed mid-batch never committed its marks, so its rows are
still pending; PostgreSQL ends the dead session and releases the locks, and the next claim takes
the same rows again, oldest first. Records of that batch already acknowledged are sent again
(at most one batch of duplicates per crash); the order of first deliveries is unchanged.

Assumption: writes to one key are serialised by their writer (a payment locks its order row),
so the lower id of a key commits first. A transaction that commits a lower id of another key
after higher ids were published is still claimed: nothing here tracks a high-water mark.

A row whose attempt failed waits until its `outbox_retry.next_attempt_at`; the later rows of its
key wait with it (their order must hold), while rows of every other key keep flowing.

On the partitioned outbox (migration 0005) the per-key probe and the mark are bounded by the oldest
and the newest pending row's `created_at` (read once per statement from `ix_outbox_pending_created_at`,
one probe per partition), so PostgreSQL prunes every partition outside them; the scan for candidates
walks each partition's `ix_outbox_pending` in id order (a probe per partition; bounding it too made the
generic plan fetch and sort every pending row, see below). The bounds are read in the claim's own
snapshot, so no pending row the claim can see lies outside them. On the plain table (0004) the claim is
the same statement without the bounds. Each connection asks once which layout it has.
"""
import json
from typing import NamedTuple

from sqlalchemy import Connection, Float, Text, bindparam, cast, exists, func, literal_column, select, update
from sqlalchemy.dialects import postgresql

from common.db import driver_execute
from common.outbox import PENDING_KEY_PREDICATE, outbox, outbox_retry
from outbox_relay.partitions import LAYOUT_SQL

_older = outbox.alias("older")
_pending = outbox.alias("pending")
# The oldest and the newest pending row's created_at, read once per statement in its snapshot (a
# MATERIALIZED CTE: as six scalar subqueries, one per use, every look probed every partition's index
# six times, 0.51 instead of 0.43 ms per look with a week of partitions, the plain table's 0.28):
# PostgreSQL prunes every partition outside them (the days behind, and the empty days made ahead).
_pending_bounds = (
    select(func.min(_pending.c.created_at).label("floor"), func.max(_pending.c.created_at).label("ceiling"))
    .where(_pending.c.published_at.is_(None))
    .cte("pending_bounds")
    .prefix_with("MATERIALIZED")
)
_pending_floor = select(_pending_bounds.c.floor).scalar_subquery()
_pending_ceiling = select(_pending_bounds.c.ceiling).scalar_subquery()


def _within_pending(table, bounded: bool) -> list:
    return [table.c.created_at.between(_pending_floor, _pending_ceiling)] if bounded else []


def _claim_statement(bounded: bool) -> str:
    bound = _within_pending(outbox, bounded)
    older_bound = _within_pending(_older, bounded)
    claimed = (
        select(outbox.c.id)
        .where(
            outbox.c.id > bindparam("after_id"),
            outbox.c.published_at.is_(None),
            # no bounds here: in a generic plan PostgreSQL guesses that a range of created_at selects a
            # few rows, and with 20M rows of history it fetched every pending row of the day through
            # ix_outbox_pending_created_at and sorted them (82,000 rows, 200 ms per 2,000-row claim)
            # instead of walking ix_outbox_pending in id order to the limit; the scan costs an index
            # probe per partition, the bounds are what keep the per-row probe and the mark to one day
            ~exists().where(outbox_retry.c.outbox_id == outbox.c.id, outbox_retry.c.next_attempt_at > func.now()),
            # OFFSET 0 keeps this a subplan probed once per candidate row (ix_outbox_pending_key): as an
            # anti join, the generic plan hashed every pending row per batch once the history grew
            # (20M rows: 350 of a claim's 500 ms, bench/scale.py)
            ~select(_older.c.id)
            .where(
                _older.c.aggregateid == outbox.c.aggregateid,
                # pending, said as ix_outbox_pending_key's predicate says it (migration 0006), so the
                # probe is planned on that index, never on ix_outbox_pending: planned there after an
                # ANALYZE that saw no pending row, each probe walked every older pending row
                literal_column(PENDING_KEY_PREDICATE.replace("published_at", "older.published_at")),
                _older.c.id < outbox.c.id,
                *older_bound,
            )
            .offset(literal_column("0"))
            .exists(),
        )
        .order_by(outbox.c.id)
        .limit(bindparam("batch_limit"))
        .with_for_update(skip_locked=True, of=outbox)
        .cte("claimed")
    )
    marked = (
        update(outbox)
        # = ANY(ARRAY(...)): one primary-key probe per claimed row, never a join over the whole table
        .where(outbox.c.id == func.any(func.array(select(claimed.c.id).scalar_subquery())), *bound)
        .values(published_at=func.clock_timestamp())
        .returning(
            outbox.c.id,
            cast(outbox.c.event_id, Text).label("event_id"),
            outbox.c.aggregateid,
            outbox.c.type,
            outbox.c.topic,
            cast(outbox.c.payload, Text).label("payload"),
            cast(outbox.c.headers, Text).label("headers"),
            cast(func.extract("epoch", outbox.c.created_at), Float).label("created_epoch"),
            outbox.c.attempts,
        )
        .cte("marked")
    )
    # Compiled once and run on the DBAPI cursor: a batch's rows become tuples in C, not Row objects.
    return str(select(marked).order_by(marked.c.id).compile(dialect=postgresql.psycopg2.dialect()))


class ClaimStatement(NamedTuple):
    """The claim as plain SQL, and as a statement prepared once per connection: PostgreSQL parses and
    plans it once per session, not per drain (planning cost more than running it when a drain finds a
    row or two; the relay's sessions use the generic plan, `database.py`)."""

    sql: str
    name: str

    @classmethod
    def of(cls, bounded: bool, name: str) -> "ClaimStatement":
        return cls(_claim_statement(bounded), name)

    @property
    def prepare_sql(self) -> str:
        return f"PREPARE {self.name} (bigint, integer) AS " + self.sql.replace("%(after_id)s", "$1").replace(
            "%(batch_limit)s", "$2"
        )

    @property
    def execute_sql(self) -> str:
        return f"EXECUTE {self.name} (%s, %s)"


PLAIN = ClaimStatement.of(bounded=False, name="outbox_relay_claim")
PARTITIONED = ClaimStatement.of(bounded=True, name="outbox_relay_claim_partitioned")
_LAYOUT = "outbox_layout"


def statement_for(conn: Connection) -> ClaimStatement:
    """The claim for the outbox this connection sees, asked once per connection (one round trip
    when the pool opens it; a connection opened after migration 0005 gets the bounded claim)."""
    info = conn.connection.info
    if _LAYOUT not in info:
        cursor = driver_execute(conn, LAYOUT_SQL)
        try:
            info[_LAYOUT] = PARTITIONED if cursor.fetchone()[0] else PLAIN
        finally:
            cursor.close()
    return info[_LAYOUT]


class ClaimedRow(NamedTuple):
    id: int
    event_id: str
    aggregateid: str
    type: str
    topic: str
    payload: str
    headers: str
    created_epoch: float  # created_at as seconds since the epoch (a float parses faster than a datetime)
    attempts: int

    def extra_headers(self) -> dict[str, str]:
        return {} if self.headers == "{}" else json.loads(self.headers)


def claim_batch(
    conn: Connection, limit: int, after_id: int = 0, prepared: bool = True, commit_first: bool = False
) -> list[ClaimedRow]:
    """Begin a transaction on `conn`, lock up to `limit` eligible rows with ids above `after_id`
    in it, oldest first, and mark them published (visible only once the caller commits): one round
    trip. `conn` is in autocommit at the driver (`database.py`), so `BEGIN` goes with the claim;
    with `commit_first` the transaction already open on `conn` (the batch before, acknowledged) is
    committed first, in the same round trip.

    `after_id` only says where to start looking: a relay with batches in flight passes the last id
    it claimed, so PostgreSQL does not walk over its own locked rows again. Correctness never rests
    on it: a row below it that was missed is claimed by the next claim starting from 0.
    """
    begin = ("COMMIT; " if commit_first else "") + "BEGIN; "
    statement = statement_for(conn)
    if not prepared:
        cursor = driver_execute(conn, begin + statement.sql, {"batch_limit": limit, "after_id": after_id})
    else:
        prepare = ""
        if not conn.connection.info.get(statement.name):  # the pool forgets it with the connection
            prepare = statement.prepare_sql + "; "
        cursor = driver_execute(conn, prepare + begin + statement.execute_sql, (after_id, limit))
        conn.connection.info[statement.name] = True
    try:
        return list(map(ClaimedRow._make, cursor.fetchall()))
    finally:
        cursor.close()
