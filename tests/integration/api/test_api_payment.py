"""A payment writes the order, stock, coupon, balance, balance log and exactly one outbox row in one
transaction; a failed payment writes nothing."""
import pytest
from sqlalchemy import text

from common.order_processed import OrderProcessedMessage
from tests.integration.api.builders import Api


@pytest.fixture()
def api(client) -> Api:
    return Api(client)


def rows(engine, sql: str, **params):
    with engine.connect() as conn:
        return [row._asdict() for row in conn.execute(text(sql), params)]


def test_a_payment_writes_one_outbox_row_with_the_order_processed_message(api, engine, api_settings):
    user_id = api.user(balance=100000)
    option_id = api.option(price=25000, stock=5)
    order_id = api.order(user_id, option_id, quantity=2)["orderId"]
    coupon_id = api.coupon(rate=10)
    api.issue(coupon_id, user_id)
    receipt = api.pay(order_id, user_id, coupon_id).get_json()

    events = rows(engine, "SELECT * FROM outbox WHERE aggregateid = :id", id=str(order_id))
    assert len(events) == 1
    event = events[0]
    assert (event["aggregatetype"], event["type"], event["topic"]) == ("order", "order.processed", api_settings.order_processed_topic)
    assert event["published_at"] is None and event["attempts"] == 0
    message = OrderProcessedMessage.model_validate(event["payload"])
    assert message.model_dump() == {
        "orderId": order_id, "userId": user_id, "finalAmount": 45000, "couponId": coupon_id,
        "items": [{"productOptionId": option_id, "productName": "T-shirt", "quantity": 2, "price": 25000}],
        "processedAt": receipt["paidAt"],
    }


def test_the_outbox_row_is_written_in_the_same_transaction_as_the_paid_order(api, engine):
    user_id = api.user(balance=10000)
    order_id = api.order(user_id, api.option(price=1000))["orderId"]
    assert api.pay(order_id, user_id).status_code == 200
    [both] = rows(
        engine,
        "SELECT o.xmin::text AS order_tx, b.xmin::text AS outbox_tx, l.xmin::text AS log_tx, u.xmin::text AS user_tx "
        "FROM orders o JOIN outbox b ON b.aggregateid = o.id::text "
        "JOIN balance_log l ON l.ref_id = o.id JOIN users u ON u.id = o.user_id WHERE o.id = :id",
        id=order_id,
    )
    assert both["order_tx"] == both["outbox_tx"] == both["log_tx"] == both["user_tx"]


def test_a_payment_turns_reserved_stock_into_sold_stock_and_uses_the_coupon(api, engine):
    user_id = api.user(balance=100000)
    option_id = api.option(price=1000, stock=10)
    order_id = api.order(user_id, option_id, quantity=3)["orderId"]
    coupon_id = api.coupon(rate=50)
    api.issue(coupon_id, user_id)
    api.pay(order_id, user_id, coupon_id)
    [option] = rows(engine, "SELECT stock, reserved_stock FROM product_options WHERE id = :id", id=option_id)
    assert option == {"stock": 7, "reserved_stock": 0}
    [held] = rows(engine, "SELECT order_id, used_at IS NOT NULL AS used FROM user_coupons WHERE coupon_id = :id", id=coupon_id)
    assert held == {"order_id": order_id, "used": True}
    log = rows(engine, "SELECT code, amount, balance_before, balance_after, ref_id FROM balance_log WHERE user_id = :id ORDER BY id", id=user_id)
    assert log[-1] == {"code": "PAYMENT", "amount": -1500, "balance_before": 100000, "balance_after": 98500, "ref_id": order_id}


def test_a_failed_payment_writes_no_outbox_row(api, engine, snapshot):
    user_id = api.user(balance=100)
    order_id = api.order(user_id, api.option(price=1000))["orderId"]
    before = snapshot()
    response = api.pay(order_id, user_id)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "INSUFFICIENT_BALANCE"
    assert snapshot() == before
    assert rows(engine, "SELECT id FROM outbox WHERE aggregateid = :id", id=str(order_id)) == []


def test_the_database_refuses_an_oversell_even_if_code_tried_one(engine):
    from sqlalchemy.exc import IntegrityError

    with engine.begin() as conn:
        product_id = conn.execute(text("INSERT INTO products (name, price, category) VALUES ('x', 1, 'c') RETURNING id")).scalar()
        option_id = conn.execute(
            text("INSERT INTO product_options (product_id, color, size, stock) VALUES (:p, 'r', 'M', 1) RETURNING id"),
            {"p": product_id},
        ).scalar()
    for statement in (
        "UPDATE product_options SET reserved_stock = 2 WHERE id = :id",
        "UPDATE product_options SET stock = -1, reserved_stock = 0 WHERE id = :id",
    ):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text(statement), {"id": option_id})


def test_the_database_refuses_a_negative_balance_even_if_code_tried_one(engine):
    from sqlalchemy.exc import IntegrityError

    with engine.begin() as conn:
        user_id = conn.execute(text("INSERT INTO users (balance) VALUES (5) RETURNING id")).scalar()
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE users SET balance = balance - 6 WHERE id = :id"), {"id": user_id})
