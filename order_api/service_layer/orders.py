"""Placing an order reserves its stock at once; an order is payable until `expiresAt`."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from order_api.adapters.orm import Order, OrderItem
from order_api.domain import errors, rules
from order_api.service_layer.products import lock_options
from order_api.service_layer.users import get_user


@dataclass(frozen=True)
class OrderLine:
    product_option_id: int
    quantity: int


@dataclass(frozen=True)
class OrderAsOf:
    """An order as seen at one moment: a pending order past its expiry is EXPIRED even before
    the sweep has marked it."""

    order: Order
    status: str

    @classmethod
    def seen(cls, order: Order, now: datetime) -> "OrderAsOf":
        return cls(order, rules.effective_status(order.status, order.expires_at, now))


def place_order(session: Session, *, user_id: int, lines: list[OrderLine], ttl_seconds: int, now: datetime) -> OrderAsOf:
    rules.ensure_no_duplicate_options([line.product_option_id for line in lines])
    get_user(session, user_id)
    options = lock_options(session, [line.product_option_id for line in lines])
    items = []
    for line in sorted(lines, key=lambda line: line.product_option_id):
        option = options[line.product_option_id]
        if option.available < line.quantity:
            raise errors.InsufficientStock(f"product option {option.id}: {option.available} available")
        option.reserved_stock += line.quantity
        price = option.product.price
        items.append(
            OrderItem(
                product_option_id=option.id, product_name=option.product.name, price=price,
                quantity=line.quantity, subtotal=price * line.quantity,
            )
        )
    total = sum(item.subtotal for item in items)
    rules.ensure_total_storable(total)
    order = Order(
        user_id=user_id, status=rules.OrderStatus.PENDING, total_amount=total, discount_amount=0,
        created_at=now, expires_at=rules.expires_at(now, ttl_seconds), items=items,
    )
    session.add(order)
    session.flush()
    return OrderAsOf.seen(order, now)


def get_order(session: Session, order_id: int) -> Order:
    order = session.scalars(select(Order).where(Order.id == order_id)).one_or_none()
    if order is None:
        raise errors.OrderNotFound(f"order {order_id} not found")
    return order


def show_order(session: Session, order_id: int, now: datetime) -> OrderAsOf:
    return OrderAsOf.seen(get_order(session, order_id), now)
