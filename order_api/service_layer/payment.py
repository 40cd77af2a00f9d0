"""Paying an order: all or nothing, in the caller's transaction.

Rows are locked in one fixed order (order, user, coupon, options by id) so concurrent payments
queue instead of deadlocking. The order becomes PAID together with the stock, coupon, balance,
balance-log row and exactly one `order.processed` outbox row; any error leaves no trace.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from common.order_processed import AGGREGATE_TYPE, EVENT_TYPE, OrderProcessedMessage, iso_millis
from common.outbox import add_event
from order_api.adapters.orm import Order, User
from order_api.domain import errors, rules
from order_api.service_layer import coupons, orders, products, users


@dataclass(frozen=True)
class PayOrder:
    order_id: int
    user_id: int
    coupon_id: int | None = None


def pay(session: Session, command: PayOrder, *, topic: str, now: datetime) -> dict:
    """Settle the payment and record its `order.processed` event in the same transaction."""
    order, user = settle(session, command, now)
    add_event(
        session, aggregatetype=AGGREGATE_TYPE, aggregateid=str(order.id), event_type=EVENT_TYPE,
        topic=topic, payload=order_processed(order).model_dump(mode="json"),
    )
    return receipt(order, user)


def settle(session: Session, command: PayOrder, now: datetime):
    """Every change of a payment but its event: order PAID, coupon, balance and its log, stock."""
    order = orders.get_order(session, command.order_id, for_update=True)
    ensure_owner(session, order, command.user_id)
    rules.ensure_payable(order.status, order.expires_at, now)
    user = users.get_user(session, command.user_id, for_update=True)
    discount = apply_coupon(session, order, command, now)
    final_amount = order.total_amount - discount
    users.change_balance(
        session, user, rules.paid_balance(user.balance, final_amount), rules.BalanceLogCode.PAYMENT, order.id
    )
    sell_reserved_stock(session, order)
    order.status, order.paid_at = rules.OrderStatus.PAID, now
    order.discount_amount, order.final_amount = discount, final_amount
    session.flush()
    return order, user


def ensure_owner(session: Session, order: Order, user_id: int) -> None:
    if order.user_id != user_id:
        users.get_user(session, user_id)
        raise errors.Forbidden()


def apply_coupon(session: Session, order: Order, command: PayOrder, now: datetime) -> int:
    if command.coupon_id is None:
        return 0
    coupon, user_coupon = coupons.lock_usable_coupon(
        session, coupon_id=command.coupon_id, user_id=command.user_id, now=now
    )
    user_coupon.used_at, user_coupon.order_id = now, order.id
    order.coupon_id = coupon.id
    return rules.discount(order.total_amount, coupon.discount_rate)


def sell_reserved_stock(session: Session, order: Order) -> None:
    options = products.lock_options(session, [item.product_option_id for item in order.items], with_product=False)
    for item in order.items:
        option = options[item.product_option_id]
        option.stock -= item.quantity
        option.reserved_stock -= item.quantity


def order_processed(order: Order) -> OrderProcessedMessage:
    return OrderProcessedMessage(
        orderId=order.id,
        userId=order.user_id,
        finalAmount=order.final_amount,
        couponId=order.coupon_id,
        items=[
            {"productOptionId": i.product_option_id, "productName": i.product_name, "quantity": i.quantity, "price": i.price}
            for i in order.items
        ],
        processedAt=iso_millis(order.paid_at),
    )


def receipt(order: Order, user: User) -> dict:
    return {
        "orderId": order.id,
        "status": order.status,
        "paidAmount": order.final_amount,
        "discountAmount": order.discount_amount,
        "remainingBalance": user.balance,
        "paidAt": order.paid_at,
    }
