"""Every error code of DESIGN.md, each shown to change nothing in any table."""
import uuid
from dataclasses import dataclass
from typing import Callable

import pytest
from sqlalchemy import text

from tests.integration.api.builders import Api


@dataclass
class Case:
    status: int
    code: str
    arrange: Callable[[Api, object], Callable[[], object]]


def sql(engine, statement: str, **params) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def payable(api: Api, balance: int = 100000, price: int = 1000):
    user_id = api.user(balance=balance)
    return user_id, api.order(user_id, api.option(price=price))["orderId"]


def already_paid(api, engine):
    user_id, order_id = payable(api)
    api.pay(order_id, user_id)
    return lambda: api.pay(order_id, user_id)


def expired_order(api, engine):
    user_id, order_id = payable(api)
    sql(engine, "UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = :id", id=order_id)
    return lambda: api.pay(order_id, user_id)


def someone_elses_order(api, engine):
    _, order_id = payable(api)
    intruder = api.user(balance=100000)
    return lambda: api.pay(order_id, intruder)


def coupon_not_held(api, engine):
    user_id, order_id = payable(api)
    coupon_id = api.coupon()
    return lambda: api.pay(order_id, user_id, coupon_id)


def coupon_already_used(api, engine):
    user_id, first = payable(api)
    second = api.order(user_id, api.option(price=1000))["orderId"]
    coupon_id = api.coupon()
    api.issue(coupon_id, user_id)
    assert api.pay(first, user_id, coupon_id).status_code == 200
    return lambda: api.pay(second, user_id, coupon_id)


def coupon_expired_before_payment(api, engine):
    user_id, order_id = payable(api)
    coupon_id = api.coupon()
    api.issue(coupon_id, user_id)
    sql(engine, "UPDATE coupons SET expires_at = now() - interval '1 second' WHERE id = :id", id=coupon_id)
    return lambda: api.pay(order_id, user_id, coupon_id)


def expired_coupon_issue(api, engine):
    coupon_id = api.coupon(expires_at="2001-01-01T00:00:00Z")
    user_id = api.user()
    return lambda: api.post(f"/api/coupons/{coupon_id}/issue", {"userId": user_id})


def sold_out_coupon(api, engine):
    coupon_id = api.coupon(quantity=1)
    api.issue(coupon_id, api.user())
    user_id = api.user()
    return lambda: api.post(f"/api/coupons/{coupon_id}/issue", {"userId": user_id})


def coupon_issued_twice(api, engine):
    coupon_id, user_id = api.coupon(), api.user()
    api.issue(coupon_id, user_id)
    return lambda: api.post(f"/api/coupons/{coupon_id}/issue", {"userId": user_id})


def idempotency_key_reused(api, engine):
    user_id, order_id = payable(api)
    assert api.pay(order_id, user_id, key="reused-key-1").status_code == 200
    _, other_order = payable(api)
    return lambda: api.pay(other_order, user_id, key="reused-key-1")


def not_enough_stock(api, engine):
    option_id = api.option(stock=2)
    user_id = api.user()
    api.order(user_id, option_id, quantity=1)
    return lambda: api.post("/api/orders", {"userId": user_id, "items": [{"productOptionId": option_id, "quantity": 2}]})


def not_enough_balance(api, engine):
    user_id, order_id = payable(api, balance=999, price=1000)
    return lambda: api.pay(order_id, user_id)


def one_option_missing(api, engine):
    option_id, user_id = api.option(), api.user()
    items = [{"productOptionId": option_id, "quantity": 1}, {"productOptionId": 9_000_000_000_000_000_000, "quantity": 1}]
    return lambda: api.post("/api/orders", {"userId": user_id, "items": items})


def bad_payment(body: Callable[[int], object] | None = None, data: str | None = None, key: str | None = None, chunked: bool = False):
    """A payment of a payable order with a wrong body (JSON built from the user id, or raw `data`,
    sent as chunked with no Content-Length if asked) and always an Idempotency-Key, to show that no
    key row is left behind either."""

    def arrange(api, engine):
        user_id, order_id = payable(api)
        path, headers = f"/api/orders/{order_id}/payment", {"Idempotency-Key": key or f"bad-{uuid.uuid4().hex}"}
        if data is None:
            return lambda: api.post(path, body(user_id), headers)
        if chunked:
            headers, environ = {**headers, "Transfer-Encoding": "chunked"}, {"CONTENT_LENGTH": ""}
        else:
            environ = {}
        return lambda: api.client.post(path, data=data, content_type="application/json", headers=headers, environ_overrides=environ)

    return arrange


OVERSIZED = '{"userId": 1' + " " * 70000 + "}"

CASES = {
    "validation: negative amount": Case(400, "VALIDATION_ERROR", lambda api, e: (lambda u=api.user(): api.post(f"/api/users/{u}/balance/charge", {"amount": -5}))),
    "validation: malformed JSON": Case(400, "VALIDATION_ERROR", lambda api, e: lambda: api.client.post("/api/orders", data="{", content_type="application/json")),
    "validation: payment, malformed JSON": Case(400, "VALIDATION_ERROR", bad_payment(data='{"userId": ')),
    "validation: payment, JSON not an object": Case(400, "VALIDATION_ERROR", bad_payment(data="[1]")),
    "validation: payment, no userId": Case(400, "VALIDATION_ERROR", bad_payment(lambda u: {})),
    "validation: payment, userId as a string": Case(400, "VALIDATION_ERROR", bad_payment(lambda u: {"userId": str(u)})),
    "validation: payment, couponId as a float": Case(400, "VALIDATION_ERROR", bad_payment(lambda u: {"userId": u, "couponId": 1.5})),
    "validation: payment, over-long Idempotency-Key": Case(400, "VALIDATION_ERROR", bad_payment(lambda u: {"userId": u}, key="k" * 256)),
    "unauthorized: no token": Case(401, "UNAUTHORIZED", lambda api, e: lambda: api.post("/api/products", {"name": "x", "price": 1, "category": "c", "options": [{"color": "r", "size": "M", "stock": 1}]})),
    "unauthorized: wrong token": Case(401, "UNAUTHORIZED", lambda api, e: lambda: api.post("/api/coupons", {"name": "x", "discountRate": 5, "totalQuantity": 1, "expiresAt": "2099-01-01T00:00:00Z"}, {"Authorization": "Bearer nope"})),
    "forbidden: another user's order": Case(403, "FORBIDDEN", someone_elses_order),
    "user not found: balance": Case(404, "USER_NOT_FOUND", lambda api, e: lambda: api.get("/api/users/8999999999999999999/balance")),
    "user not found: charge": Case(404, "USER_NOT_FOUND", lambda api, e: lambda: api.post("/api/users/8999999999999999999/balance/charge", {"amount": 5})),
    "user not found: order": Case(404, "USER_NOT_FOUND", lambda api, e: (lambda o=api.option(): api.post("/api/orders", {"userId": 8999999999999999999, "items": [{"productOptionId": o, "quantity": 1}]}))),
    "user not found: coupon issue": Case(404, "USER_NOT_FOUND", lambda api, e: (lambda c=api.coupon(): api.post(f"/api/coupons/{c}/issue", {"userId": 8999999999999999999}))),
    "user not found: payment": Case(404, "USER_NOT_FOUND", lambda api, e: (lambda o=payable(api)[1]: api.pay(o, 8999999999999999999))),
    "product not found": Case(404, "PRODUCT_NOT_FOUND", lambda api, e: lambda: api.get("/api/products/8999999999999999999")),
    "product option not found": Case(404, "PRODUCT_OPTION_NOT_FOUND", one_option_missing),
    "order not found: show": Case(404, "ORDER_NOT_FOUND", lambda api, e: lambda: api.get("/api/orders/8999999999999999999")),
    "order not found: payment": Case(404, "ORDER_NOT_FOUND", lambda api, e: (lambda u=api.user(): api.pay(8999999999999999999, u))),
    "coupon not found: issue": Case(404, "COUPON_NOT_FOUND", lambda api, e: (lambda u=api.user(): api.post("/api/coupons/8999999999999999999/issue", {"userId": u}))),
    "coupon not found: payment": Case(404, "COUPON_NOT_FOUND", lambda api, e: (lambda p=payable(api): api.pay(p[1], p[0], 8999999999999999999))),
    "insufficient stock": Case(409, "INSUFFICIENT_STOCK", not_enough_stock),
    "insufficient balance": Case(409, "INSUFFICIENT_BALANCE", not_enough_balance),
    "order expired before the sweep": Case(409, "ORDER_EXPIRED", expired_order),
    "already paid": Case(409, "ALREADY_PAID", already_paid),
    "invalid coupon: not held": Case(409, "INVALID_COUPON", coupon_not_held),
    "invalid coupon: already used": Case(409, "INVALID_COUPON", coupon_already_used),
    "invalid coupon: expired at payment": Case(409, "INVALID_COUPON", coupon_expired_before_payment),
    "invalid coupon: expired at issue": Case(409, "INVALID_COUPON", expired_coupon_issue),
    "coupon sold out": Case(409, "COUPON_SOLD_OUT", sold_out_coupon),
    "coupon already issued": Case(409, "COUPON_ALREADY_ISSUED", coupon_issued_twice),
    "idempotency key reused": Case(409, "IDEMPOTENCY_KEY_REUSED", idempotency_key_reused),
    "payload too large": Case(413, "PAYLOAD_TOO_LARGE", lambda api, e: lambda: api.client.post("/api/orders", data="{" + " " * 70000 + "}", content_type="application/json")),
    "payload too large: payment": Case(413, "PAYLOAD_TOO_LARGE", bad_payment(data=OVERSIZED)),
    "payload too large: payment, chunked": Case(413, "PAYLOAD_TOO_LARGE", bad_payment(data=OVERSIZED, chunked=True)),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_an_error_answers_its_code_and_changes_nothing(case: Case, client, engine, snapshot):
    request = case.arrange(Api(client), engine)
    before = snapshot()
    response = request()
    assert response.status_code == case.status, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == case.code
    assert set(response.get_json()["error"]) == {"code", "message"}
    assert snapshot() == before


def test_every_error_code_of_the_design_is_covered():
    design = {
        "VALIDATION_ERROR", "UNAUTHORIZED", "FORBIDDEN", "USER_NOT_FOUND", "PRODUCT_NOT_FOUND",
        "PRODUCT_OPTION_NOT_FOUND", "ORDER_NOT_FOUND", "COUPON_NOT_FOUND", "INSUFFICIENT_STOCK",
        "INSUFFICIENT_BALANCE", "ORDER_EXPIRED", "ALREADY_PAID", "INVALID_COUPON", "COUPON_SOLD_OUT",
        "COUPON_ALREADY_ISSUED", "IDEMPOTENCY_KEY_REUSED", "PAYLOAD_TOO_LARGE",
    }
    assert design == {case.code for case in CASES.values()}
