"""Taking a claim's mark back from rows the broker left unanswered, before the batch commits.

The claim already set `published_at` on every row of the batch (uncommitted, see `claim.py`), so
rows the broker acknowledged need nothing more: the commit makes their mark visible. A row left
unanswered (shutdown grace over, delivery timeout) is just pending again, as before; a row the
broker refused gets its next attempt from `retry_schedule.py`.

`created_after` (seconds since the epoch, a little below the batch's oldest `created_at`) lets
PostgreSQL skip the partitions of the partitioned outbox that cannot hold these rows.
"""
from sqlalchemy import BigInteger, Connection, Float, bindparam, func, update
from sqlalchemy.dialects.postgresql import ARRAY

from common.outbox import outbox

_UNMARK = (
    update(outbox)
    .where(
        outbox.c.id == func.any(bindparam("ids", type_=ARRAY(BigInteger))),
        outbox.c.created_at >= func.to_timestamp(bindparam("created_after", type_=Float)),
    )
    .values(published_at=None)
)


def mark_unanswered(conn: Connection, ids: list[int], created_after: float = 0.0) -> None:
    if ids:
        conn.execute(_UNMARK, {"ids": ids, "created_after": created_after})
