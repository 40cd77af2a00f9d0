"""The payment's SQL: the few statements of the hot path, written out, each one round trip.

A payment is the API's busiest request, so it does not go through the ORM's unit of work (which
cost it ten statements and most of its CPU). The rules stay in order_api/domain/rules.py and the
sequence in order_api/service_layer/payment.py; this module only reads and writes rows:

1. `lock_order`: the order, locked, with its items (one statement);
2. `lock_balance`: the payer's balance, locked;
3. (the coupon, locked, when one is given: service_layer/coupons.py)
4. `lock_options`: the order's options, locked in id order;
5. `record_payment`: user balance, balance-log row, stock and the order itself, in one statement.

Locks are taken in that fixed order (order, user, coupon, options by id), the same order every
other writer uses, so concurrent payments queue instead of deadlocking. `FOR NO KEY UPDATE` does
not conflict with the `FOR KEY SHARE` locks that foreign-key checks take.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

LOCK_ORDER = text("""
    SELECT o.user_id, o.status, o.total_amount, o.expires_at,
           (SELECT json_agg(json_build_array(i.product_option_id, i.product_name, i.quantity, i.price)
                            ORDER BY i.id)
              FROM order_items AS i
             WHERE i.order_id = o.id) AS items
      FROM orders AS o
     WHERE o.id = :order_id
       FOR NO KEY UPDATE OF o
""")

LOCK_BALANCE = text("SELECT balance FROM users WHERE id = :user_id FOR NO KEY UPDATE")

LOCK_OPTIONS = text("""
    SELECT id FROM product_options WHERE id = ANY(CAST(:option_ids AS bigint[])) ORDER BY id FOR NO KEY UPDATE
""")

RECORD_PAYMENT = text("""
    WITH charged AS (
        UPDATE users SET balance = :balance_after WHERE id = :user_id RETURNING id
    ), logged AS (
        INSERT INTO balance_log (user_id, code, amount, balance_before, balance_after, ref_id)
        SELECT id, :log_code, :balance_after - :balance_before, :balance_before, :balance_after, :order_id
          FROM charged
    ), sold AS (
        UPDATE product_options AS option
           SET stock = option.stock - line.quantity, reserved_stock = option.reserved_stock - line.quantity
          FROM unnest(CAST(:option_ids AS bigint[]), CAST(:quantities AS bigint[])) AS line (id, quantity)
         WHERE option.id = line.id
    )
    UPDATE orders
       SET status = :status, coupon_id = :coupon_id, discount_amount = :discount_amount,
           final_amount = :final_amount, paid_at = :paid_at
     WHERE id = :order_id
""")


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
    row = session.execute(LOCK_ORDER, {"order_id": order_id}).one_or_none()
    if row is None:
        return None
    items = tuple(Item(*item) for item in row.items or ())
    return LockedOrder(order_id, row.user_id, row.status, row.total_amount, row.expires_at, items)


def lock_balance(session: Session, user_id: int) -> int | None:
    return session.execute(LOCK_BALANCE, {"user_id": user_id}).scalar_one_or_none()


def lock_options(session: Session, option_ids: list[int]) -> None:
    session.execute(LOCK_OPTIONS, {"option_ids": option_ids})


def record_payment(
    session: Session, order: LockedOrder, *, status: str, log_code: str, balance_before: int, balance_after: int,
    coupon_id: int | None, discount_amount: int, final_amount: int, paid_at: datetime,
) -> None:
    session.execute(RECORD_PAYMENT, {
        "order_id": order.id, "user_id": order.user_id, "log_code": log_code,
        "balance_before": balance_before, "balance_after": balance_after,
        "option_ids": [item.product_option_id for item in order.items],
        "quantities": [item.quantity for item in order.items],
        "status": status, "coupon_id": coupon_id, "discount_amount": discount_amount,
        "final_amount": final_amount, "paid_at": paid_at,
    })
