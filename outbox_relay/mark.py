"""Recording the outcome of a publish inside the transaction that claimed the rows.

At-least-once: `published_at` is set only for rows whose record the broker acknowledged, and it
becomes visible only when the claiming transaction commits. A failed row stays pending with
`attempts` + 1, `last_error` and `next_attempt_at` = now + initial × 2^(attempts before), capped.
Rows neither acked nor failed are left untouched: the commit just releases their locks.
"""
from sqlalchemy import BigInteger, Connection, bindparam, func, literal, update
from sqlalchemy.dialects.postgresql import ARRAY

from common.outbox import outbox

_MARK_PUBLISHED = (
    update(outbox)
    .where(outbox.c.id == func.any(bindparam("ids", type_=ARRAY(BigInteger))))
    .values(published_at=func.clock_timestamp())
)


def mark_published(conn: Connection, ids: list[int]) -> None:
    if ids:
        conn.execute(_MARK_PUBLISHED, {"ids": ids})


def _retry_delay_seconds(initial: float, maximum: float):
    return func.least(literal(maximum), literal(initial) * func.power(2, outbox.c.attempts))


def mark_failed(conn: Connection, failures: list[tuple[int, str]], initial: float, maximum: float) -> None:
    if not failures:
        return
    statement = (
        update(outbox)
        .where(outbox.c.id == bindparam("row_id"))
        .values(
            attempts=outbox.c.attempts + 1,
            last_error=bindparam("error"),
            next_attempt_at=func.clock_timestamp()
            + func.make_interval(0, 0, 0, 0, 0, 0, _retry_delay_seconds(initial, maximum)),
        )
    )
    conn.execute(statement, [{"row_id": row_id, "error": error} for row_id, error in failures])
