"""Expiry: an unpaid order past `expiresAt` is EXPIRED, its reservation released by the sweep;
a payment sees it as expired even before the sweep ran."""
from sqlalchemy import text

from harness.waiting import wait_for
from order_api.entrypoints.sweeper import sweep_once
from tests.integration.api.builders import Api
from tests.integration.api.conftest import start_api


def option_state(engine, option_id: int) -> tuple[int, int]:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT stock, reserved_stock FROM product_options WHERE id = :id"), {"id": option_id}).one()
    return tuple(row)


def status_in_database(engine, order_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT status FROM orders WHERE id = :id"), {"id": order_id}).scalar()


def backdate(engine, order_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = :id"), {"id": order_id})


def test_a_payment_sees_an_expired_order_as_expired_before_the_sweep(client, engine):
    api = Api(client)
    user_id = api.user(balance=50000)
    order_id = api.order(user_id, api.option(price=1000))["orderId"]
    backdate(engine, order_id)
    response = api.pay(order_id, user_id)
    assert response.get_json()["error"]["code"] == "ORDER_EXPIRED"
    assert status_in_database(engine, order_id) == "PENDING"
    assert api.get(f"/api/orders/{order_id}").get_json()["status"] == "EXPIRED"
    assert api.balance(user_id) == 50000


def test_the_sweep_expires_due_orders_and_releases_their_reservation(client, engine, app):
    api = Api(client)
    user_id = api.user()
    option_id = api.option(stock=5)
    due = api.order(user_id, option_id, quantity=2)["orderId"]
    kept = api.order(user_id, option_id, quantity=1)["orderId"]
    backdate(engine, due)
    assert option_state(engine, option_id) == (5, 3)
    resources = app.extensions["order_api"]
    sweep_once(resources.sessions, resources.settings)
    assert status_in_database(engine, due) == "EXPIRED" and status_in_database(engine, kept) == "PENDING"
    assert option_state(engine, option_id) == (5, 1)
    sweep_once(resources.sessions, resources.settings)
    assert option_state(engine, option_id) == (5, 1)


def test_the_running_service_sweeps_on_its_own(api_env, engine):
    process, url = start_api({**api_env, "API_ORDER_TTL_SECONDS": "1", "API_EXPIRY_SWEEP_INTERVAL_SECONDS": "0.2"}, workers=2)
    try:
        import requests

        api = Api(requests.Session(), url)
        user_id = api.user()
        option_id = api.option(stock=3)
        order_id = api.order(user_id, option_id, quantity=3)["orderId"]
        assert option_state(engine, option_id) == (3, 3)
        wait_for(lambda: status_in_database(engine, order_id) == "EXPIRED", timeout=15, what="the sweep to expire the order")
        assert option_state(engine, option_id) == (3, 0)
        assert api.get(f"/api/orders/{order_id}").json()["status"] == "EXPIRED"
    finally:
        process.stop()


def test_the_one_shot_command_expires_due_orders(client, engine, api_env):
    import os
    import subprocess
    import sys
    from pathlib import Path

    api = Api(client)
    option_id = api.option(stock=4)
    order_id = api.order(api.user(), option_id, quantity=4)["orderId"]
    backdate(engine, order_id)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "order-api"), "expire-orders"],
        env={**os.environ, **api_env}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("expired ")
    assert status_in_database(engine, order_id) == "EXPIRED" and option_state(engine, option_id) == (4, 0)


def test_only_one_sweeper_sweeps_at_a_time(app):
    from datetime import datetime, timezone

    from order_api.service_layer.expiry import sweep_if_leader

    sessions = app.extensions["order_api"].sessions
    now = datetime.now(timezone.utc)
    with sessions.begin() as leader, sessions.begin() as other:
        assert sweep_if_leader(leader, now=now) is not None
        assert sweep_if_leader(other, now=now) is None
    with sessions.begin() as next_tick:
        assert sweep_if_leader(next_tick, now=now) is not None
