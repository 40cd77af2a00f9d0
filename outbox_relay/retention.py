"""Deleting published rows older than the retention, in small batches with short transactions.

Only published rows are ever deleted. Each batch is its own transaction and skips rows locked by
someone else, so neither claiming nor writing waits on retention for long. The whole plain
outbox, or one partition of the partitioned one (`partitions.py` says which).
"""
from sqlalchemy import Engine, text

_DELETE_BATCH = (
    "DELETE FROM {table} WHERE id IN ("
    " SELECT id FROM {table}"
    " WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => :seconds)"
    " ORDER BY published_at LIMIT :batch_size FOR UPDATE SKIP LOCKED)"
)


def delete_published(engine: Engine, retention_hours: float, batch_size: int, max_batches: int = 100,
                     table: str = "outbox") -> int:
    """Delete up to `max_batches` batches of expired rows of `table`; returns how many rows were deleted."""
    deleted = 0
    statement = text(_DELETE_BATCH.format(table=engine.dialect.identifier_preparer.quote(table)))
    for _ in range(max_batches):
        with engine.begin() as conn:
            count = conn.execute(statement, {"seconds": retention_hours * 3600, "batch_size": batch_size}).rowcount
        deleted += count
        if count < batch_size:
            break
    return deleted
