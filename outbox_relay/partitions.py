"""Retention on the partitioned outbox (migration 0005): whole days dropped, never one with a pending row.

- pg_partman's maintenance (`partman.run_maintenance('public.outbox')`) makes the partitions
  ahead and drops every partition whose day ended more than the retention ago (`part_config`:
  retention from RELAY_RETENTION_HOURS, tables dropped, not kept). A dropped day leaves no dead
  tuples behind, unlike row deletes.
- Before it runs, the partitions it would drop are checked for unpublished rows, under the lock it
  needs anyway, so none can arrive in between. If one holds any, the retention handed to pg_partman
  is stretched to keep that partition and the newer ones; their published rows go by row deletes
  (`retention.py`), as do those of the default partition, and the partition goes at a later turn.
- Dropping a partition takes an ACCESS EXCLUSIVE lock on `outbox`, and while that waits every
  payment's insert waits behind it. So it runs with `lock_timeout` = RELAY_PARTITION_LOCK_TIMEOUT_MS
  and, when that passes, gives up until the next turn: no payment waits longer than that.
- It runs on a pooled connection in a transaction of its own, after the relay committed what it
  carried (`runner.py`): inside the relay's open claim it would wait for the relay's own locks.
"""
from dataclasses import dataclass, field

from psycopg2.errors import LockNotAvailable
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

PARENT = "public.outbox"
DEFAULT_PARTITION = "outbox_default"
# true when the outbox is partitioned (migration 0005 with OUTBOX_LAYOUT=partitioned)
LAYOUT_SQL = "SELECT relkind = 'p' FROM pg_class WHERE oid = 'outbox'::regclass"
_LAYOUT = text(LAYOUT_SQL)
_EXPIRED = text(
    "SELECT p.partition_tablename, i.child_start_time"
    " FROM partman.show_partitions(:parent) AS p,"
    " LATERAL partman.show_partition_info(p.partition_schemaname || '.' || p.partition_tablename,"
    "   p_parent_table => :parent) AS i"
    " WHERE i.child_end_time < now() - make_interval(secs => :seconds)"
    " ORDER BY i.child_start_time"
)
_SET_RETENTION = text(
    "UPDATE partman.part_config SET retention = make_interval(secs => :seconds)::text, retention_keep_table = false"
    " WHERE parent_table = :parent"
)
_MAINTAIN = text("SELECT partman.run_maintenance(:parent)")
# outbox_retry has no foreign key to the partitioned outbox: retry rows of dropped or deleted rows go here
_ORPHAN_RETRIES = text("DELETE FROM outbox_retry r WHERE NOT EXISTS (SELECT FROM outbox o WHERE o.id = r.outbox_id)")


class PartitionLockBusy(Exception):
    """The lock on `outbox` was not had within RELAY_PARTITION_LOCK_TIMEOUT_MS; nothing changed."""


@dataclass
class Maintenance:
    dropped: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # past the retention, but holding pending rows
    orphan_retries_deleted: int = 0

    def leftovers(self) -> list[str]:
        """Partitions whose expired published rows go by row deletes: the kept ones and the default."""
        return [*self.kept, DEFAULT_PARTITION]


def is_partitioned(conn: Connection) -> bool:
    return bool(conn.execute(_LAYOUT).scalar())


def maintain(engine: Engine, retention_hours: float, lock_timeout_ms: int) -> Maintenance:
    """pg_partman's maintenance of the outbox with retention, keeping every partition that holds an
    unpublished row; raises PartitionLockBusy when a lock is not had in time."""
    try:
        return _maintain(engine, retention_hours * 3600, lock_timeout_ms)
    except OperationalError as error:
        if isinstance(error.orig, LockNotAvailable):
            raise PartitionLockBusy(str(error.orig).strip()) from error
        raise


def _maintain(engine: Engine, seconds: float, lock_timeout_ms: int) -> Maintenance:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="READ COMMITTED")  # a real transaction, even on the relay's pool
        with conn.begin():
            conn.execute(text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))
            result = Maintenance()
            if _expired(conn, seconds):
                conn.execute(text("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE"))  # no insert from here on
                seconds = _spare_days_with_pending_rows(conn, seconds, result)
            conn.execute(_SET_RETENTION, {"seconds": seconds, "parent": PARENT})
            conn.execute(_MAINTAIN, {"parent": PARENT})
            result.orphan_retries_deleted = conn.execute(_ORPHAN_RETRIES).rowcount
    return result


def _spare_days_with_pending_rows(conn: Connection, seconds: float, result: Maintenance) -> float:
    """The retention to hand pg_partman so that no expired day holding a pending row is dropped;
    fills in which days will be dropped and which kept."""
    expired = _expired(conn, seconds)
    result.kept = [name for name, _ in expired if _holds_pending(conn, name)]
    starts = [start for name, start in expired if name in result.kept]
    result.dropped = [name for name, start in expired if not starts or start < starts[0]]
    if not starts:
        return seconds
    oldest_kept_age = conn.execute(text("SELECT extract(epoch FROM now() - :start)"), {"start": starts[0]}).scalar()
    # pg_partman keeps a partition whose end is after now - retention: the oldest kept one's start a
    # minute inside that line keeps it and the newer ones, and drops the older ones
    return max(seconds, float(oldest_kept_age) - 60)


def _expired(conn: Connection, seconds: float) -> list[tuple[str, object]]:
    return conn.execute(_EXPIRED, {"parent": PARENT, "seconds": seconds}).all()


def _holds_pending(conn: Connection, partition: str) -> bool:
    name = conn.dialect.identifier_preparer.quote(partition)
    return bool(conn.execute(text(f"SELECT EXISTS (SELECT FROM public.{name} WHERE published_at IS NULL)")).scalar())
