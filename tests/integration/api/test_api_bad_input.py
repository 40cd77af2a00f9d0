"""Bad input never gives a 500: every case below is a 400 VALIDATION_ERROR (or 404/405/413) with the
error envelope, and changes nothing. An id in the path that no row can have is the resource's own
404 (USER_NOT_FOUND, ...), as an unknown id is; only an unknown URL is a generic 404 NOT_FOUND."""
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


IMPOSSIBLE_IDS = ["0", "-1", "abc", "1.5", "1e3", "%20", str(2**63), str(BIG), "9" * 5000]
ID_ROUTES = {
    "balance": ("GET", "/api/users/{}/balance", "USER_NOT_FOUND"),
    "charge": ("POST", "/api/users/{}/balance/charge", "USER_NOT_FOUND"),
    "product": ("GET", "/api/products/{}", "PRODUCT_NOT_FOUND"),
    "coupon issue": ("POST", "/api/coupons/{}/issue", "COUPON_NOT_FOUND"),
    "order": ("GET", "/api/orders/{}", "ORDER_NOT_FOUND"),
    "payment": ("POST", "/api/orders/{}/payment", "ORDER_NOT_FOUND"),
}


@pytest.mark.parametrize("route", ID_ROUTES.values(), ids=ID_ROUTES.keys())
@pytest.mark.parametrize("impossible_id", IMPOSSIBLE_IDS)
def test_an_id_no_row_can_have_is_its_resources_not_found_and_changes_nothing(route, impossible_id, api, snapshot):
    method, path, code = route
    body = {"userId": api.user(), "amount": 5}
    before = snapshot()
    response = api.client.open(path.format(impossible_id), method=method, json=body, headers={"Idempotency-Key": "k-impossible-id"})
    assert_error(response, 404, code)
    assert snapshot() == before


def test_an_id_with_leading_zeros_is_the_same_id(api):
    user_id = api.user(balance=7)
    assert api.get(f"/api/users/000{user_id}/balance").get_json() == {"userId": user_id, "balance": 7}


@pytest.mark.parametrize("path", ["/nowhere", "/api/users/1/nowhere", "/api/orders/1/payment/extra"])
def test_an_unknown_url_is_a_generic_not_found(path, client):
    assert_error(client.get(path), 404, "NOT_FOUND")


def test_a_wrong_method_on_an_impossible_id_is_still_method_not_allowed(client):
    assert_error(client.delete("/api/orders/abc"), 405, "METHOD_NOT_ALLOWED")


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
