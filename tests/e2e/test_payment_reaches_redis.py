"""A payment travels from the HTTP API through PostgreSQL, the relay, Kafka and the worker into Redis."""
import json
from datetime import datetime, timedelta

from sqlalchemy import text

from harness.shop import Shop
from harness.waiting import wait_for


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def stored_message(redis_client, order_id: int) -> dict:
    raw = wait_for(
        lambda: redis_client.get(f"data:order:processed:{order_id}"),
        timeout=60,
        what=f"order {order_id} in Redis",
    )
    return json.loads(raw)


def test_a_paid_order_is_stored_in_redis_exactly_as_paid(pipeline, redis_client, engine):
    shop = Shop(pipeline["api"], pipeline["admin_token"])
    user_id = shop.user_with_balance(100_000)
    product = shop.product(price=25_000, stock=5)
    option_id = product["options"][0]["productOptionId"]
    coupon_id = shop.coupon_for(user_id, rate=10)
    order = shop.post("/api/orders", {"userId": user_id, "items": [{"productOptionId": option_id, "quantity": 2}]}, 201)

    payment = shop.post(f"/api/orders/{order['orderId']}/payment", {"userId": user_id, "couponId": coupon_id}, 200)
    message = stored_message(redis_client, order["orderId"])

    assert payment["paidAmount"] == 45_000 and payment["discountAmount"] == 5_000
    assert message["orderId"] == order["orderId"]
    assert message["userId"] == user_id
    assert message["finalAmount"] == payment["paidAmount"]
    assert message["couponId"] == coupon_id
    assert message["items"] == [
        {"productOptionId": option_id, "productName": "T-shirt", "quantity": 2, "price": 25_000}
    ]
    assert abs(parse_time(message["processedAt"]) - parse_time(payment["paidAt"])) < timedelta(milliseconds=1)
    assert 3500 < redis_client.ttl(f"data:order:processed:{order['orderId']}") <= 3600


def test_the_outbox_row_is_marked_published_once_the_event_is_delivered(pipeline, redis_client, engine):
    shop = Shop(pipeline["api"], pipeline["admin_token"])
    user_id = shop.user_with_balance(10_000)
    option_id = shop.product(price=3_000, stock=1)["options"][0]["productOptionId"]
    order = shop.post("/api/orders", {"userId": user_id, "items": [{"productOptionId": option_id, "quantity": 1}]}, 201)

    shop.post(f"/api/orders/{order['orderId']}/payment", {"userId": user_id}, 200)
    message = stored_message(redis_client, order["orderId"])

    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT type, topic, published_at, attempts FROM outbox WHERE aggregateid = :id"),
            {"id": str(order["orderId"])},
        ).all()
    assert message["couponId"] is None
    assert len(rows) == 1
    assert rows[0].type == "order.processed"
    wait_for(
        lambda: _published_at(engine, order["orderId"]) is not None,
        timeout=30,
        what="outbox row marked published",
    )


def _published_at(engine, order_id: int):
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT published_at FROM outbox WHERE aggregateid = :id"), {"id": str(order_id)}
        ).scalar_one()
