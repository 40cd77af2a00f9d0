"""Real parallel HTTP requests against gunicorn with 4 workers: no oversell, no negative balance,
no double payment, and no deadlock or serialization error ever reaches a client."""
import random

import pytest

from harness.database import scalar
from tests.integration.api.builders import Api
from tests.integration.api.concurrent import at_once, report, tally


@pytest.fixture()
def api(http, api_url) -> Api:
    return Api(http, api_url)


def test_fifty_concurrent_orders_for_ten_in_stock_sell_exactly_ten(api, engine):
    option_id = api.option(stock=10)
    users = [api.user() for _ in range(50)]
    body = lambda user: {"userId": user, "items": [{"productOptionId": option_id, "quantity": 1}]}
    outcomes = at_once([lambda u=u: api.post("/api/orders", body(u)) for u in users])
    report("50 orders, stock 10", outcomes)
    assert tally(outcomes) == {"201": 10, "INSUFFICIENT_STOCK": 40}
    stock, reserved = scalar(engine, "SELECT ARRAY[stock, reserved_stock] FROM product_options WHERE id = :id", id=option_id)
    assert (stock, reserved) == (10, 10)
    assert scalar(engine, "SELECT sum(quantity) FROM order_items WHERE product_option_id = :id", id=option_id) == 10


def test_twenty_concurrent_payments_of_one_order_charge_it_once(api, engine):
    user_id = api.user(balance=100000)
    order_id = api.order(user_id, api.option(price=7000))["orderId"]
    outcomes = at_once([lambda: api.pay(order_id, user_id) for _ in range(20)])
    report("20 payments of one order", outcomes)
    assert tally(outcomes) == {"200": 1, "ALREADY_PAID": 19}
    assert api.balance(user_id) == 93000
    assert scalar(engine, "SELECT count(*) FROM balance_log WHERE ref_id = :id AND code = 'PAYMENT'", id=order_id) == 1
    assert scalar(engine, "SELECT count(*) FROM outbox WHERE aggregateid = :id", id=str(order_id)) == 1


def test_concurrent_payments_beyond_the_balance_never_take_it_below_zero(api, engine):
    user_id = api.user(balance=100000)
    prices = [7000, 9000, 11000, 13000] * 5
    orders = [api.order(user_id, api.option(price=price))["orderId"] for price in prices]
    outcomes = at_once([lambda o=o: api.pay(o, user_id) for o in orders])
    paid = sum(outcome.body["paidAmount"] for outcome in outcomes if outcome.status == 200)
    remaining = api.balance(user_id)
    report("20 payments, one user, 200000 due vs 100000 balance", outcomes, paid=paid, remaining=remaining)
    assert set(tally(outcomes)) == {"200", "INSUFFICIENT_BALANCE"}
    assert remaining >= 0 and paid == 100000 - remaining
    refused = [price for price, outcome in zip(prices, outcomes) if outcome.status != 200]
    assert remaining < min(refused)  # the balance only falls, so every refusal was a right one
    successes = tally(outcomes)["200"]
    assert scalar(engine, "SELECT count(*) FROM balance_log WHERE user_id = :id AND code = 'PAYMENT'", id=user_id) == successes
    assert scalar(
        engine, "SELECT count(*) FROM outbox WHERE aggregateid = ANY(:ids)", ids=[str(o) for o in orders]
    ) == successes


def test_one_issued_coupon_used_by_two_concurrent_payments_is_used_once(api, engine):
    figures = []
    for _ in range(5):
        user_id = api.user(balance=100000)
        option_id = api.option(price=10000, stock=2)
        first, second = (api.order(user_id, option_id)["orderId"] for _ in range(2))
        coupon_id = api.coupon(rate=20)
        api.issue(coupon_id, user_id)
        outcomes = at_once([lambda o=o: api.pay(o, user_id, coupon_id) for o in (first, second)])
        figures.append(dict(tally(outcomes)))
        assert tally(outcomes) == {"200": 1, "INVALID_COUPON": 1}
        assert api.balance(user_id) == 92000
        assert scalar(engine, "SELECT count(*) FROM orders WHERE coupon_id = :id", id=coupon_id) == 1
    print(f"\n[concurrency] one coupon, two payments, 5 rounds: {figures}")


def test_a_mixed_storm_of_orders_payments_and_charges_never_shows_a_database_conflict(api, engine):
    options = [api.option(price=1000, stock=30) for _ in range(4)]
    users = [api.user(balance=20000) for _ in range(6)]
    pending = [(u, api.order(u, random.choice(options))["orderId"]) for u in users for _ in range(3)]
    rng = random.Random(7)
    calls = []
    for user_id, order_id in pending:
        calls.append(lambda u=user_id, o=order_id: api.pay(o, u))
    for _ in range(30):
        user_id, chosen = rng.choice(users), rng.sample(options, 3)
        items = [{"productOptionId": option, "quantity": 1} for option in chosen]
        calls.append(lambda u=user_id, i=items: api.post("/api/orders", {"userId": u, "items": i}))
    for user_id in users:
        calls.append(lambda u=user_id: api.post(f"/api/users/{u}/balance/charge", {"amount": 500}))
    rng.shuffle(calls)
    outcomes = at_once(calls)
    report("mixed storm (18 payments, 30 multi-option orders, 6 charges)", outcomes)
    assert set(tally(outcomes)) <= {"200", "201", "INSUFFICIENT_STOCK", "INSUFFICIENT_BALANCE"}
    for option in options:
        stock, reserved = scalar(engine, "SELECT ARRAY[stock, reserved_stock] FROM product_options WHERE id = :id", id=option)
        sold = scalar(
            engine,
            "SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id "
            "WHERE i.product_option_id = :id AND o.status = 'PAID'", id=option,
        )
        held = scalar(
            engine,
            "SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id "
            "WHERE i.product_option_id = :id AND o.status = 'PENDING'", id=option,
        )
        assert (stock, reserved) == (30 - sold, held)
