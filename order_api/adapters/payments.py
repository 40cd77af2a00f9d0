"""The payment's SQL: the few statements of the hot path, written out, each one round trip.

A payment is the API's busiest request, so it does not go through the ORM's unit of work (which
cost it ten statements and most of its CPU). The rules stay in order_api/domain/rules.py and the
sequence in order_api/service_layer/payment.py; this module only reads and writes rows:

1. `lock_order`: the order, locked, with its items (one statement);
2. `lock_balance`: the payer's balance, locked;
3. (the coupon, locked, when one is given: service_layer/coupons.py)
4. `lock_options`: the order's options, locked in id order;
5. `record_payment`: user balance, balance-log row, stock and the order itself, in one statement.

The four statements are prepared once per database connection and run on the DBAPI cursor of the
session's connection, in its transaction (common/db.py `driver_execute`): PostgreSQL plans each
once, and SQLAlchemy's per-statement work, about a third of the request's Python time, is skipped
while its errors are kept.

Locks are taken in that fixed order (order, user, coupon, options by id), the same order every
other writer uses, so concurrent payments queue instead of deadlocking. `FOR NO KEY UPDATE` does
not conflict with the `FOR KEY SHARE` locks that foreign-key checks take.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from common.db import driver_execute

# name: (parameter types, statement). Each is prepared once per database connection
# (`_connection`), so PostgreSQL parses and plans it once.
STATEMENTS = {
    "payment_lock_order": ("bigint", """
        SELECT o.user_id, o.status, o.total_amount, o.expires_at,
               (SELECT json_agg(json_build_array(i.product_option_id, i.product_name, i.quantity, i.price)
                                ORDER BY i.id)
                  FROM order_items AS i
                 WHERE i.order_id = o.id) AS items
          FROM orders AS o
         WHERE o.id = $1
           FOR NO KEY UPDATE OF o
    """),
    "payment_lock_balance": ("bigint", "SELECT balance FROM users WHERE id = $1 FOR NO KEY UPDATE"),
    "payment_lock_options": ("bigint[]", """
        SELECT id FROM product_options WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE
    """),
    # $1 order, $2 user, $3 balance-log code, $4 balance before, $5 balance after, $6 option ids,
    # $7 their quantities, $8 order status, $9 coupon, $10 discount, $11 final amount, $12 paid at
    "payment_record": ("bigint, bigint, text, bigint, bigint, bigint[], bigint[], text, bigint, bigint, bigint, timestamptz", """
        WITH charged AS (
            UPDATE users SET balance = $5 WHERE id = $2 RETURNING id
        ), logged AS (
            INSERT INTO balance_log (user_id, code, amount, balance_before, balance_after, ref_id)
            SELECT id, $3, $5 - $4, $4, $5, $1 FROM charged
        ), sold AS (
            UPDATE product_options AS option
               SET stock = option.stock - line.quantity, reserved_stock = option.reserved_stock - line.quantity
              FROM unnest($6, $7) AS line (id, quantity)
             WHERE option.id = line.id
        )
        UPDATE orders
           SET status = $8, coupon_id = $9, discount_amount = $10, final_amount = $11, paid_at = $12
         WHERE id = $1
    """),
}
_EXECUTE = {name: f"EXECUTE {name}({', '.join(['%s'] * (types.count(',') + 1))})"
            for name, (types, _) in STATEMENTS.items()}
# One round trip; DEALLOCATE ALL first, so an earlier attempt that failed half-way cannot leave a
# name behind that would make every later PREPARE on this connection fail.
_PREPARE_ALL = "DEALLOCATE ALL; " + " ".join(
    f"PREPARE {name}({types}) AS {statement};" for name, (types, statement) in STATEMENTS.items()
)
_PREPARED = "order_api.payment_statements"


def _connection(session: Session) -> Connection:
    """The session's connection (its transaction), with the statements prepared on it."""
    connection = session.connection()
    info = connection.connection.info  # per database connection; cleared when it reconnects
    if not info.get(_PREPARED):
        driver_execute(connection, _PREPARE_ALL)  # prepared statements outlive a rollback
        info[_PREPARED] = True
    return connection


def _execute(session: Session, name: str, *parameters):
    return driver_execute(_connection(session), _EXECUTE[name], parameters)


@dataclass(frozen=True)
class Item:
    product_option_id: int
    product_name: str
    quantity: int
    price: int


@dataclass(frozen=True)
class LockedOrder:
    id: int
    user_id: int
    status: str
    total_amount: int
    expires_at: datetime
    items: tuple[Item, ...]


def lock_order(session: Session, order_id: int) -> LockedOrder | None:
    row = _execute(session, "payment_lock_order", order_id).fetchone()
    if row is None:
        return None
    user_id, status, total_amount, expires_at, items = row
    return LockedOrder(order_id, user_id, status, total_amount, expires_at, tuple(Item(*item) for item in items or ()))


def lock_balance(session: Session, user_id: int) -> int | None:
    row = _execute(session, "payment_lock_balance", user_id).fetchone()
    return None if row is None else row[0]


def lock_options(session: Session, option_ids: list[int]) -> None:
    _execute(session, "payment_lock_options", option_ids)


def record_payment(
    session: Session, order: LockedOrder, *, status: str, log_code: str, balance_before: int, balance_after: int,
    coupon_id: int | None, discount_amount: int, final_amount: int, paid_at: datetime,
) -> None:
    _execute(
        session, "payment_record", order.id, order.user_id, log_code, balance_before, balance_after,
        [item.product_option_id for item in order.items], [item.quantity for item in order.items],
        status, coupon_id, discount_amount, final_amount, paid_at,
    )
