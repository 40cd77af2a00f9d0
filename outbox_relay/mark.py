"""Settling a publish inside the transaction that claimed the rows, before it commits.

The claim already set `published_at` on every row of the batch (uncommitted, see `claim.py`), so
rows the broker acknowledged need nothing more: the commit makes their mark visible. Rows that
did not get an acknowledgement have the mark taken back here before the commit:
- a failed row stays pending with `attempts` + 1, `last_error` and `next_attempt_at` = now +
  initial × 2^(attempts before), capped;
- a row left unanswered (shutdown grace over, delivery timeout) is just pending again, as before.
"""
from sqlalchemy import BigInteger, Connection, bindparam, func, literal, update
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


def _retry_delay_seconds(initial: float, maximum: float):
    return func.least(literal(maximum), literal(initial) * func.power(2, outbox.c.attempts))


def mark_failed(conn: Connection, failures: list[tuple[int, str]], initial: float, maximum: float) -> None:
    if not failures:
        return
    statement = (
        update(outbox)
        .where(outbox.c.id == bindparam("row_id"))
        .values(
            published_at=None,
            attempts=outbox.c.attempts + 1,
            last_error=bindparam("error"),
            next_attempt_at=func.clock_timestamp()
            + func.make_interval(0, 0, 0, 0, 0, 0, _retry_delay_seconds(initial, maximum)),
        )
    )
    conn.execute(statement, [{"row_id": row_id, "error": error} for row_id, error in failures])
