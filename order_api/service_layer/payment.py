"""Paying an order: all or nothing, in the caller's transaction.

Rows are locked in one fixed order (order, user, coupon, options by id) so concurrent payments
queue instead of deadlocking; the statements themselves are in order_api/adapters/payments.py.
The order becomes PAID together with the stock, coupon, balance, balance-log row and exactly one
`order.processed` outbox row; any error leaves no trace.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from common.order_processed import AGGREGATE_TYPE, EVENT_TYPE, OrderProcessedMessage, iso_millis
from common.outbox import add_event
from order_api.adapters import payments
from order_api.domain import errors, rules
from order_api.service_layer import coupons, users


@dataclass(frozen=True)
class PayOrder:
    order_id: int
    user_id: int
    coupon_id: int | None = None


@dataclass(frozen=True)
class Settlement:
    """What a settled payment changed: enough for the receipt and the event."""

    order: payments.LockedOrder
    coupon_id: int | None
    discount_amount: int
    final_amount: int
    remaining_balance: int
    paid_at: datetime

    @property
    def status(self) -> str:
        return rules.OrderStatus.PAID


def pay(
    session: Session, command: PayOrder, *, topic: str, now: datetime, event_headers: dict[str, str] | None = None
) -> Settlement:
    """Settle the payment and record its `order.processed` event in the same transaction; `event_headers`
    (the trace context, W3C `traceparent`) travel with the event to Kafka."""
    settled = settle(session, command, now)
    add_event(
        session, aggregatetype=AGGREGATE_TYPE, aggregateid=str(settled.order.id), event_type=EVENT_TYPE,
        topic=topic, payload=order_processed(settled).model_dump(mode="json"), headers=event_headers,
    )
    return settled


def settle(session: Session, command: PayOrder, now: datetime) -> Settlement:
    """Every change of a payment but its event: order PAID, coupon, balance and its log, stock.

    Locks, in the fixed order: order, user, coupon, options (by id); see adapters/payments.py.
    """
    order = payments.lock_order(session, command.order_id)
    if order is None:
        raise errors.OrderNotFound(f"order {command.order_id} not found")
    ensure_owner(session, order, command.user_id)
    rules.ensure_payable(order.status, order.expires_at, now)
    balance = payments.lock_balance(session, command.user_id)
    if balance is None:
        raise errors.UserNotFound(f"user {command.user_id} not found")
    discount = apply_coupon(session, order, command, now)
    final_amount = order.total_amount - discount
    remaining = rules.paid_balance(balance, final_amount)
    payments.lock_options(session, sorted(item.product_option_id for item in order.items))
    payments.record_payment(
        session, order, status=rules.OrderStatus.PAID, log_code=rules.BalanceLogCode.PAYMENT,
        balance_before=balance, balance_after=remaining, coupon_id=command.coupon_id,
        discount_amount=discount, final_amount=final_amount, paid_at=now,
    )
    if command.coupon_id is not None:
        session.flush()  # the coupon's use, after the order row it points to is PAID
    return Settlement(order, command.coupon_id, discount, final_amount, remaining, now)


def ensure_owner(session: Session, order: payments.LockedOrder, user_id: int) -> None:
    if order.user_id != user_id:
        users.get_user(session, user_id)
        raise errors.Forbidden()


def apply_coupon(session: Session, order: payments.LockedOrder, command: PayOrder, now: datetime) -> int:
    if command.coupon_id is None:
        return 0
    coupon, user_coupon = coupons.lock_usable_coupon(
        session, coupon_id=command.coupon_id, user_id=command.user_id, now=now
    )
    user_coupon.used_at, user_coupon.order_id = now, order.id
    return rules.discount(order.total_amount, coupon.discount_rate)


def order_processed(settled: Settlement) -> OrderProcessedMessage:
    order = settled.order
    return OrderProcessedMessage(
        orderId=order.id,
        userId=order.user_id,
        finalAmount=settled.final_amount,
        couponId=settled.coupon_id,
        items=[
            {"productOptionId": i.product_option_id, "productName": i.product_name, "quantity": i.quantity, "price": i.price}
            for i in order.items
        ],
        processedAt=iso_millis(settled.paid_at),
    )
