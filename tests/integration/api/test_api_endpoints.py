"""Every endpoint answers with DESIGN.md's status and shape."""
import re

import pytest

from tests.integration.api.builders import ADMIN, Api

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture()
def api(client) -> Api:
    return Api(client)


def test_creating_a_user_returns_its_id_and_a_zero_balance(api):
    response = api.post("/api/users", {})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"userId", "balance"} and body["balance"] == 0


def test_creating_a_user_needs_a_json_object_body_as_documented(client):
    assert client.post("/api/users").status_code == 400


def test_charging_adds_to_the_balance_and_logs_a_charge(api, engine):
    user_id = api.user()
    response = api.post(f"/api/users/{user_id}/balance/charge", {"amount": 5000})
    assert response.status_code == 200 and response.get_json() == {"userId": user_id, "balance": 5000}
    assert api.balance(user_id) == 5000
    with engine.connect() as conn:
        log = conn.exec_driver_sql(
            "SELECT code, amount, balance_before, balance_after FROM balance_log WHERE user_id = %s", (user_id,)
        ).all()
    assert [tuple(row) for row in log] == [("CHARGE", 5000, 0, 5000)]


def test_an_admin_creates_a_product_with_options(api):
    response = api.post(
        "/api/products",
        {"name": "Hoodie", "price": 59000, "category": "tops",
         "options": [{"color": "grey", "size": "M", "stock": 3}, {"color": "navy", "size": "L", "stock": 0}]},
        ADMIN,
    )
    assert response.status_code == 201
    body = response.get_json()
    assert {k: body[k] for k in ("name", "price", "category")} == {"name": "Hoodie", "price": 59000, "category": "tops"}
    assert [(o["color"], o["size"], o["stock"]) for o in body["options"]] == [("grey", "M", 3), ("navy", "L", 0)]
    assert all(isinstance(o["productOptionId"], int) for o in body["options"])
    assert api.get(f"/api/products/{body['productId']}").get_json() == body


def test_a_product_shows_available_stock_after_a_reservation(api):
    product = api.product(stocks=(5,))
    option_id = product["options"][0]["productOptionId"]
    api.order(api.user(), option_id, quantity=2)
    shown = api.get(f"/api/products/{product['productId']}").get_json()
    assert shown["options"][0]["stock"] == 3


def test_an_admin_creates_a_coupon_and_a_user_gets_it_issued(api):
    response = api.post(
        "/api/coupons",
        {"name": "spring", "discountRate": 15, "totalQuantity": 2, "expiresAt": "2099-01-01T00:00:00+09:00"},
        ADMIN,
    )
    assert response.status_code == 201
    coupon = response.get_json()
    assert coupon["discountRate"] == 15 and coupon["totalQuantity"] == 2 and coupon["issuedQuantity"] == 0
    assert coupon["expiresAt"] == "2098-12-31T15:00:00.000Z"
    user_id = api.user()
    issued = api.post(f"/api/coupons/{coupon['couponId']}/issue", {"userId": user_id})
    assert issued.status_code == 201
    assert set(issued.get_json()) == {"userCouponId", "couponId", "userId"}
    assert issued.get_json()["userId"] == user_id


def test_placing_an_order_reserves_stock_and_returns_a_pending_order(api):
    user_id = api.user()
    option_id = api.option(price=25000, stock=5)
    response = api.post("/api/orders", {"userId": user_id, "items": [{"productOptionId": option_id, "quantity": 2}]})
    assert response.status_code == 201
    order = response.get_json()
    assert order["status"] == "PENDING" and order["userId"] == user_id and order["totalAmount"] == 50000
    assert order["items"] == [
        {"productOptionId": option_id, "productName": "T-shirt", "price": 25000, "quantity": 2, "subtotal": 50000}
    ]
    assert ISO_UTC.match(order["createdAt"]) and ISO_UTC.match(order["expiresAt"])
    assert order["expiresAt"] > order["createdAt"]


def test_paying_an_order_returns_the_receipt_and_the_order_shows_paid(api):
    user_id = api.user(balance=100000)
    order = api.order(user_id, api.option(price=25000), quantity=2)
    coupon_id = api.coupon(rate=15)
    api.issue(coupon_id, user_id)
    response = api.pay(order["orderId"], user_id, coupon_id)
    assert response.status_code == 200
    receipt = response.get_json()
    assert {k: v for k, v in receipt.items() if k != "paidAt"} == {
        "orderId": order["orderId"], "status": "PAID", "paidAmount": 42500, "discountAmount": 7500,
        "remainingBalance": 57500,
    }
    assert ISO_UTC.match(receipt["paidAt"])
    shown = api.get(f"/api/orders/{order['orderId']}").get_json()
    assert shown["status"] == "PAID" and shown["paidAt"] == receipt["paidAt"]
    assert (shown["totalAmount"], shown["discountAmount"], shown["finalAmount"]) == (50000, 7500, 42500)


def test_health_and_readiness_answer(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_the_openapi_document_describes_every_endpoint(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert {
        "/api/users", "/api/users/{userId}/balance", "/api/users/{userId}/balance/charge", "/api/products",
        "/api/products/{productId}", "/api/coupons", "/api/coupons/{couponId}/issue", "/api/orders",
        "/api/orders/{orderId}", "/api/orders/{orderId}/payment", "/healthz", "/readyz", "/metrics",
    } <= set(paths)
    payment = paths["/api/orders/{orderId}/payment"]["post"]["responses"]
    assert {"200", "400", "403", "404", "409"} <= set(payment)
