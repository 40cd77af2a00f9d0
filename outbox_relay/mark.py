"""Taking a claim's mark back from rows the broker left unanswered, before the batch commits.

The claim already set `published_at` on every row of the batch (uncommitted, see `claim.py`), so
rows the broker acknowledged need nothing more: the commit makes their mark visible. A row left
unanswered (shutdown grace over, delivery timeout) is just pending again, as before; a row the
broker refused gets its next attempt from `retry_schedule.py`.
"""
from sqlalchemy import BigInteger, Connection, bindparam, func, update
from sqlalchemy.dialects.postgresql import ARRAY

from common.outbox import outbox

_UNMARK = (
    update(outbox)
    .where(outbox.c.id == func.any(bindparam("ids", type_=ARRAY(BigInteger))))
    .values(published_at=None)
)


def mark_unanswered(conn: Connection, ids: list[int]) -> None:
    if ids:
        conn.execute(_UNMARK, {"ids": ids})
