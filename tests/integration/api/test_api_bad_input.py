"""Bad input never gives a 500: every case below is a 400 VALIDATION_ERROR (or 404/405/413) with the
error envelope, and changes nothing."""
import pytest

from tests.integration.api.builders import ADMIN, Api

BIG = 2**64
PAYLOADS = {
    "malformed JSON": (b'{"userId": 1, "items": [', "application/json"),
    "JSON that is not an object": (b"[1, 2, 3]", "application/json"),
    "JSON null": (b"null", "application/json"),
    "a JSON string": (b'"hello"', "application/json"),
    "not JSON at all as text/plain": (b"userId=1", "text/plain"),
    "a form body": (b"userId=1&items=2", "application/x-www-form-urlencoded"),
    "invalid UTF-8": (b'{"userId": "\xff\xfe"}', "application/json"),
    "NaN": (b'{"userId": NaN, "items": []}', "application/json"),
    "a huge exponent": (b'{"userId": 1e400, "items": []}', "application/json"),
}
ORDER_BODIES = {
    "missing fields": {},
    "userId as a string": {"userId": "1", "items": [{"productOptionId": 1, "quantity": 1}]},
    "userId as a float": {"userId": 1.5, "items": [{"productOptionId": 1, "quantity": 1}]},
    "userId as a boolean": {"userId": True, "items": [{"productOptionId": 1, "quantity": 1}]},
    "userId beyond 64 bits": {"userId": BIG, "items": [{"productOptionId": 1, "quantity": 1}]},
    "option id beyond 64 bits": {"userId": 1, "items": [{"productOptionId": BIG, "quantity": 1}]},
    "quantity beyond 64 bits": {"userId": 1, "items": [{"productOptionId": 1, "quantity": BIG}]},
    "zero quantity": {"userId": 1, "items": [{"productOptionId": 1, "quantity": 0}]},
    "negative quantity": {"userId": 1, "items": [{"productOptionId": 1, "quantity": -3}]},
    "empty item list": {"userId": 1, "items": []},
    "items not a list": {"userId": 1, "items": {"productOptionId": 1}},
    "an item not an object": {"userId": 1, "items": [7]},
    "negative user id": {"userId": -1, "items": [{"productOptionId": 1, "quantity": 1}]},
}


@pytest.fixture()
def api(client) -> Api:
    return Api(client)


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == code


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_a_body_that_is_not_a_json_object_is_a_validation_error(payload, client, snapshot):
    data, content_type = payload
    before = snapshot()
    assert_error(client.post("/api/orders", data=data, content_type=content_type), 400, "VALIDATION_ERROR")
    assert snapshot() == before


@pytest.mark.parametrize("body", ORDER_BODIES.values(), ids=ORDER_BODIES.keys())
def test_a_wrong_order_body_is_a_validation_error(body, api, snapshot):
    before = snapshot()
    assert_error(api.post("/api/orders", body), 400, "VALIDATION_ERROR")
    assert snapshot() == before


def test_the_same_option_twice_in_one_order_is_a_validation_error(api, snapshot):
    option_id, user_id = api.option(), api.user()
    items = [{"productOptionId": option_id, "quantity": 1}, {"productOptionId": option_id, "quantity": 2}]
    before = snapshot()
    assert_error(api.post("/api/orders", {"userId": user_id, "items": items}), 400, "VALIDATION_ERROR")
    assert snapshot() == before


@pytest.mark.parametrize("amount", [0, -1, BIG, 1.5, "100", None])
def test_a_charge_of_a_non_positive_or_non_integer_amount_is_a_validation_error(amount, api, snapshot):
    user_id = api.user()
    before = snapshot()
    assert_error(api.post(f"/api/users/{user_id}/balance/charge", {"amount": amount}), 400, "VALIDATION_ERROR")
    assert snapshot() == before


def test_a_charge_that_would_overflow_the_balance_is_a_validation_error(api, snapshot):
    user_id = api.user(balance=2**63 - 10)
    before = snapshot()
    assert_error(api.post(f"/api/users/{user_id}/balance/charge", {"amount": 100}), 400, "VALIDATION_ERROR")
    assert snapshot() == before


def test_an_order_whose_total_overflows_64_bits_is_a_validation_error(api, snapshot):
    option_id = api.option(price=2**62, stock=10)
    user_id = api.user()
    before = snapshot()
    body = {"userId": user_id, "items": [{"productOptionId": option_id, "quantity": 4}]}
    assert_error(api.post("/api/orders", body), 400, "VALIDATION_ERROR")
    assert snapshot() == before


@pytest.mark.parametrize(
    "body",
    [
        {"name": "a\u0000b", "price": 1, "category": "c", "options": [{"color": "r", "size": "M", "stock": 1}]},
        {"name": "", "price": 1, "category": "c", "options": [{"color": "r", "size": "M", "stock": 1}]},
        {"name": "x", "price": -1, "category": "c", "options": [{"color": "r", "size": "M", "stock": 1}]},
        {"name": "x", "price": 1, "category": "c", "options": []},
        {"name": "x", "price": 1, "category": "c", "options": [{"color": "r", "size": "M", "stock": 2**31}]},
        {"name": "\ud800", "price": 1, "category": "c", "options": [{"color": "r", "size": "M", "stock": 1}]},
    ],
    ids=["NUL character", "empty name", "negative price", "no options", "stock beyond 32 bits", "lone surrogate"],
)
def test_a_wrong_product_is_a_validation_error(body, api, snapshot):
    before = snapshot()
    assert_error(api.post("/api/products", body, ADMIN), 400, "VALIDATION_ERROR")
    assert snapshot() == before


@pytest.mark.parametrize(
    "expires_at", ["yesterday", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", 12345, None]
)
def test_a_coupon_with_an_unusable_expiry_is_a_validation_error(expires_at, api, snapshot):
    before = snapshot()
    body = {"name": "x", "discountRate": 10, "totalQuantity": 1, "expiresAt": expires_at}
    assert_error(api.post("/api/coupons", body, ADMIN), 400, "VALIDATION_ERROR")
    assert snapshot() == before


@pytest.mark.parametrize("rate", [0, 101, -5])
def test_a_coupon_rate_outside_one_to_a_hundred_is_a_validation_error(rate, api):
    body = {"name": "x", "discountRate": rate, "totalQuantity": 1, "expiresAt": "2099-01-01T00:00:00Z"}
    assert_error(api.post("/api/coupons", body, ADMIN), 400, "VALIDATION_ERROR")


def test_unknown_fields_are_ignored(api):
    user_id = api.user(balance=10)
    response = api.post(f"/api/users/{user_id}/balance/charge", {"amount": 5, "currency": "KRW", "extra": [1]})
    assert response.status_code == 200 and response.get_json()["balance"] == 15


@pytest.mark.parametrize("path", ["/api/users/0/balance", "/api/users/-1/balance", "/api/users/abc/balance",
                                  f"/api/users/{BIG}/balance", "/api/orders/99999999999999999999999999", "/nowhere"])
def test_unknown_or_impossible_ids_in_the_path_are_not_found(path, client):
    assert_error(client.get(path), 404, "NOT_FOUND")


def test_a_wrong_method_is_method_not_allowed(client):
    assert_error(client.delete("/api/users"), 405, "METHOD_NOT_ALLOWED")


def test_a_body_over_64_kib_is_payload_too_large(client, snapshot):
    before = snapshot()
    assert_error(client.post("/api/users", data=b"{" + b" " * 65536 + b"}", content_type="application/json"), 413, "PAYLOAD_TOO_LARGE")
    assert snapshot() == before


def test_an_overlong_idempotency_key_is_a_validation_error(api):
    user_id = api.user(balance=10000)
    order_id = api.order(user_id, api.option(price=100))["orderId"]
    assert_error(api.pay(order_id, user_id, key="k" * 256), 400, "VALIDATION_ERROR")
