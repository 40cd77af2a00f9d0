"""Idempotency-Key: the same key and body get the first answer without a second charge or outbox row,
also when the two requests race; the same key with another body is refused; keys last 24 hours."""
import uuid
from datetime import timedelta

from sqlalchemy import text

from tests.integration.api.builders import Api
from tests.integration.api.concurrent import at_once, report, tally


def count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def charges(engine, order_id: int) -> tuple[int, int]:
    return (
        count(engine, "SELECT count(*) FROM balance_log WHERE ref_id = :id", id=order_id),
        count(engine, "SELECT count(*) FROM outbox WHERE aggregateid = :id", id=str(order_id)),
    )


def test_a_repeated_request_gets_the_first_answer_without_paying_twice(client, engine):
    api = Api(client)
    user_id = api.user(balance=50000)
    order_id = api.order(user_id, api.option(price=10000))["orderId"]
    key = str(uuid.uuid4())
    first = api.pay(order_id, user_id, key=key)
    second = api.pay(order_id, user_id, key=key)
    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data()
    assert charges(engine, order_id) == (1, 1) and api.balance(user_id) == 40000


def test_the_same_key_with_another_body_is_refused(client):
    api = Api(client)
    user_id = api.user(balance=50000)
    order_id = api.order(user_id, api.option(price=10000))["orderId"]
    coupon_id = api.coupon()
    api.issue(coupon_id, user_id)
    key = str(uuid.uuid4())
    assert api.pay(order_id, user_id, key=key).status_code == 200
    refused = api.pay(order_id, user_id, coupon_id, key=key)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_a_failed_request_leaves_no_key_so_a_retry_runs_anew(client, engine):
    api = Api(client)
    user_id = api.user(balance=5000)
    order_id = api.order(user_id, api.option(price=10000))["orderId"]
    key = str(uuid.uuid4())
    assert api.pay(order_id, user_id, key=key).get_json()["error"]["code"] == "INSUFFICIENT_BALANCE"
    assert count(engine, "SELECT count(*) FROM idempotency_keys WHERE key = :k", k=key) == 0
    api.post(f"/api/users/{user_id}/balance/charge", {"amount": 5000})
    assert api.pay(order_id, user_id, key=key).status_code == 200


def test_a_key_is_kept_for_the_configured_hours(client, engine, api_settings):
    api = Api(client)
    user_id = api.user(balance=50000)
    order_id = api.order(user_id, api.option(price=10000))["orderId"]
    key = str(uuid.uuid4())
    api.pay(order_id, user_id, key=key)
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT expires_at - created_at FROM idempotency_keys WHERE key = :k"), {"k": key}).scalar()
    assert kept == timedelta(hours=api_settings.idempotency_ttl_hours) == timedelta(hours=24)


def test_racing_duplicates_are_paid_once_and_all_get_the_same_answer(http, api_url, engine):
    api = Api(http, api_url)
    user_id = api.user(balance=50000)
    order_id = api.order(user_id, api.option(price=10000))["orderId"]
    key = str(uuid.uuid4())
    outcomes = at_once([lambda: api.pay(order_id, user_id, key=key) for _ in range(10)])
    report("10 racing duplicates with one Idempotency-Key", outcomes)
    assert tally(outcomes) == {"200": 10}
    assert len({str(sorted(outcome.body.items())) for outcome in outcomes}) == 1
    assert charges(engine, order_id) == (1, 1) and api.balance(user_id) == 40000


def test_expired_keys_are_purged_by_the_sweep_and_can_be_used_again(client, engine, app):
    from order_api.entrypoints.sweeper import sweep_once

    api = Api(client)
    user_id = api.user(balance=50000)
    first = api.order(user_id, api.option(price=10000))["orderId"]
    key = str(uuid.uuid4())
    api.pay(first, user_id, key=key)
    with engine.begin() as conn:
        conn.execute(text("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = :k"), {"k": key})
    resources = app.extensions["order_api"]
    sweep_once(resources.sessions, resources.settings)
    assert count(engine, "SELECT count(*) FROM idempotency_keys WHERE key = :k", k=key) == 0
    second = api.order(user_id, api.option(price=10000))["orderId"]
    assert api.pay(second, user_id, key=key).status_code == 200


def test_an_expired_key_not_yet_purged_is_taken_over_by_a_new_request(client, engine):
    api = Api(client)
    user_id = api.user(balance=50000)
    key = str(uuid.uuid4())
    api.pay(api.order(user_id, api.option(price=10000))["orderId"], user_id, key=key)
    with engine.begin() as conn:
        conn.execute(text("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = :k"), {"k": key})
    second = api.order(user_id, api.option(price=10000))["orderId"]
    response = api.pay(second, user_id, key=key)
    assert response.status_code == 200 and response.get_json()["orderId"] == second
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT response_body->>'orderId' FROM idempotency_keys WHERE key = :k"), {"k": key}).scalar()
    assert stored == str(second)
