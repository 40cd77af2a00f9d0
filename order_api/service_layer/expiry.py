"""Expiry: pending orders past `expiresAt` become EXPIRED and their reserved stock is released.

Safe to run from any number of processes at once: due orders are claimed with SKIP LOCKED, and
`sweep_if_leader` lets only the holder of a transaction-scoped advisory lock sweep at a time.
"""
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from order_api.adapters.orm import Order
from order_api.domain import rules
from order_api.service_layer.products import lock_options

SWEEP_LOCK_KEY = 0x0A91_E4F1  # an arbitrary, fixed advisory-lock key for the expiry sweep


def expire_due_orders(session: Session, *, now: datetime, batch_size: int = 100) -> int:
    due = session.scalars(
        select(Order)
        .where(Order.status == rules.OrderStatus.PENDING, Order.expires_at <= now)
        .order_by(Order.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True, key_share=True)
    ).all()
    if not due:
        return 0
    options = lock_options(
        session, sorted({item.product_option_id for order in due for item in order.items}), with_product=False
    )
    for order in due:
        for item in order.items:
            options[item.product_option_id].reserved_stock -= item.quantity
        order.status = rules.OrderStatus.EXPIRED
    session.flush()
    return len(due)


def sweep_if_leader(session: Session, *, now: datetime, batch_size: int = 100) -> int | None:
    """Expire one batch if no other process is sweeping right now; None if another one is."""
    if not session.scalar(select(func.pg_try_advisory_xact_lock(SWEEP_LOCK_KEY))):
        return None
    return expire_due_orders(session, now=now, batch_size=batch_size)
