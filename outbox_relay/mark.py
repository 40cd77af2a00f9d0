"""Settling a publish inside the transaction that claimed the rows, before it commits.

The claim already set `published_at` on every row of the batch (uncommitted, see `claim.py`), so
rows the broker acknowledged need nothing more: the commit makes their mark visible. Rows that
did not get an acknowledgement have the mark taken back here before the commit:
- a failed row stays pending with `attempts` + 1 and `last_error`, and is not claimed again before
  its `outbox_retry.next_attempt_at` = now + initial × 2^(attempts before), capped;
- a row left unanswered (shutdown grace over, delivery timeout) is just pending again, as before.
"""
from sqlalchemy import BigInteger, Connection, bindparam, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert

from common.outbox import outbox, outbox_retry

_UNMARK = (
    update(outbox)
    .where(outbox.c.id == func.any(bindparam("ids", type_=ARRAY(BigInteger))))
    .values(published_at=None)
)


def mark_unanswered(conn: Connection, ids: list[int]) -> None:
    if ids:
        conn.execute(_UNMARK, {"ids": ids})


def mark_failed(conn: Connection, failures: list[tuple[int, str]], initial: float, maximum: float) -> None:
    if not failures:
        return
    # the retry time first, from the attempts before this one: initial x 2^(attempts before), capped
    delay = func.least(literal(maximum), literal(initial) * func.power(2, outbox.c.attempts))
    retry_at = (
        select(outbox.c.id, func.clock_timestamp() + func.make_interval(0, 0, 0, 0, 0, 0, delay))
        .where(outbox.c.id == func.any(bindparam("ids", type_=ARRAY(BigInteger))))
    )
    upsert = insert(outbox_retry).from_select(["outbox_id", "next_attempt_at"], retry_at)
    conn.execute(
        upsert.on_conflict_do_update(index_elements=["outbox_id"], set_={"next_attempt_at": upsert.excluded.next_attempt_at}),
        {"ids": [row_id for row_id, _ in failures]},
    )
    conn.execute(
        update(outbox)
        .where(outbox.c.id == bindparam("row_id"))
        .values(published_at=None, attempts=outbox.c.attempts + 1, last_error=bindparam("error")),
        [{"row_id": row_id, "error": error} for row_id, error in failures],
    )
