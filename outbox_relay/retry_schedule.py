"""When a row the broker refused is tried again: the one place that decides it.

A refused row stays pending with `attempts` + 1 and `last_error`, its claim's mark taken back, and
is not claimed again before its `outbox_retry.next_attempt_at` = now + RELAY_ROW_RETRY_INITIAL_SECONDS
× 2^(attempts before), capped at RELAY_ROW_RETRY_MAX_SECONDS. The later rows of its key wait with
it (`claim.py`), rows of every other key keep flowing.
"""
from sqlalchemy import BigInteger, Connection, Float, bindparam, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert

from common.outbox import outbox, outbox_retry


def schedule_next_attempt(
    conn: Connection, failures: list[tuple[int, str]], initial: float, maximum: float, created_after: float = 0.0
) -> None:
    """Inside the batch's transaction: each (row id, error) stays pending, counts one more attempt,
    keeps the error and waits in `outbox_retry` until its next attempt. `created_after` (epoch
    seconds, at most the rows' `created_at`) lets PostgreSQL skip older partitions."""
    if not failures:
        return
    not_older = outbox.c.created_at >= func.to_timestamp(bindparam("created_after", type_=Float))
    # the retry time first, from the attempts before this one: initial x 2^(attempts before), capped
    delay = func.least(literal(maximum), literal(initial) * func.power(2, outbox.c.attempts))
    retry_at = (
        select(outbox.c.id, func.clock_timestamp() + func.make_interval(0, 0, 0, 0, 0, 0, delay))
        .where(outbox.c.id == func.any(bindparam("ids", type_=ARRAY(BigInteger))), not_older)
    )
    upsert = insert(outbox_retry).from_select(["outbox_id", "next_attempt_at"], retry_at)
    conn.execute(
        upsert.on_conflict_do_update(index_elements=["outbox_id"], set_={"next_attempt_at": upsert.excluded.next_attempt_at}),
        {"ids": [row_id for row_id, _ in failures], "created_after": created_after},
    )
    conn.execute(
        update(outbox)
        .where(outbox.c.id == bindparam("row_id"), not_older)
        .values(published_at=None, attempts=outbox.c.attempts + 1, last_error=bindparam("error")),
        [{"row_id": row_id, "error": error, "created_after": created_after} for row_id, error in failures],
    )
