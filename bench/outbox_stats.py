"""What the outbox holds and what PostgreSQL did to it, read the same way for a plain and a partitioned table.

Every figure is summed over the leaves of `pg_partition_tree('outbox')` (a plain table is its own
single leaf): a partitioned table's root and partitioned indexes hold no storage of their own. The
counters of `pg_stat_user_tables` are cumulative (a window's autovacuum runs are the difference of
two readings) and are flushed by each backend at most once a second, so they lag by about that.
"""
import re

from sqlalchemy import Connection, Engine, text

# pg_partition_tree lists nothing for a table that is neither partitioned nor a partition
LEAVES = ("SELECT relid FROM pg_partition_tree('outbox') WHERE isleaf "
           "UNION SELECT oid FROM pg_class WHERE oid = 'outbox'::regclass AND relkind = 'r'")

_SIZE = text(
    "SELECT coalesce(sum(pg_total_relation_size(relid)), 0), coalesce(sum(pg_relation_size(relid)), 0), "
    f"coalesce(sum(pg_indexes_size(relid)), 0), count(*) FROM ({LEAVES}) AS leaves"
)
_ACTIVITY = text(
    "SELECT coalesce(sum(n_live_tup), 0), coalesce(sum(n_dead_tup), 0), coalesce(sum(autovacuum_count), 0), "
    "coalesce(sum(autoanalyze_count), 0), coalesce(sum(vacuum_count), 0), max(last_autovacuum) "
    f"FROM pg_stat_user_tables WHERE relid IN ({LEAVES})"
)
_ROWS = text("SELECT count(*), count(*) FILTER (WHERE published_at IS NULL) FROM outbox")

# --autovacuum's short names; a name already starting with autovacuum_ is taken as it is
_PREFIXES = {"analyze_": "autovacuum_", "autovacuum_": ""}


def size(conn: Connection) -> dict:
    """Bytes of the outbox in all (heap, TOAST, indexes), of its heap's main fork, and of its indexes."""
    total, heap, indexes, leaves = conn.execute(_SIZE).one()
    return {"total_bytes": int(total), "heap_bytes": int(heap), "index_bytes": int(indexes), "leaves": leaves}


def activity(conn: Connection) -> dict:
    """Live and dead tuples (the statistics' estimates) and the cumulative vacuum and analyze counts."""
    live, dead, autovacuums, autoanalyzes, vacuums, last = conn.execute(_ACTIVITY).one()
    return {"live_tuples": int(live), "dead_tuples": int(dead), "autovacuum_count": int(autovacuums),
            "autoanalyze_count": int(autoanalyzes), "vacuum_count": int(vacuums),
            "last_autovacuum": last.isoformat() if last else None}


def rows(conn: Connection) -> dict:
    """Rows in the outbox and how many of them are pending (counted, not estimated)."""
    held, pending = conn.execute(_ROWS).one()
    return {"rows": held, "pending_rows": pending}


def autovacuum_options(spec: str) -> dict[str, float]:
    """`scale_factor=0,threshold=10000,cost_delay=0` -> autovacuum_vacuum_scale_factor=0.0, ...;
    `analyze_scale_factor` -> autovacuum_analyze_scale_factor. Values must be numbers."""
    options = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, value = item.partition("=")
        if not re.fullmatch(r"[a-z_]+", name):
            raise ValueError(f"not an autovacuum setting: {name!r}")
        prefix = next((p for start, p in _PREFIXES.items() if name.startswith(start)), "autovacuum_vacuum_")
        options[prefix + name] = float(value)
    return options


def set_autovacuum(engine: Engine, options: dict[str, float]) -> None:
    """ALTER TABLE ... SET (...) on every leaf (a partitioned root takes no storage parameters)."""
    if not options:
        return
    settings = ", ".join(f"{name} = {int(value) if value.is_integer() else value}" for name, value in options.items())
    with engine.begin() as conn:
        for (leaf,) in conn.execute(text(f"SELECT relid::regclass::text FROM ({LEAVES}) AS leaves")):
            conn.execute(text(f"ALTER TABLE {leaf} SET ({settings})"))


def reloptions(engine: Engine) -> dict[str, list[str]]:
    """Each leaf's storage parameters as PostgreSQL holds them."""
    with engine.connect() as conn:
        return {name: list(options or []) for name, options in conn.execute(text(
            f"SELECT c.oid::regclass::text, c.reloptions FROM pg_class c WHERE c.oid IN ({LEAVES}) ORDER BY 1"))}
