"""The transaction runner retries what PostgreSQL asks to retry, and a database outage is a clean 503."""
import threading

import pytest
from sqlalchemy import text

from harness.database import scalar
from harness.waiting import wait_for
from order_api.adapters import payments
from order_api.adapters.database import engine_for, in_transaction, session_factory
from order_api.config import Settings
from order_api.entrypoints.app import create_app
from tests.integration.api.builders import Api


def test_a_real_deadlock_is_retried_until_both_transactions_commit(api_settings, engine):
    with engine.begin() as conn:
        first, second = conn.execute(text("INSERT INTO users (balance) VALUES (0), (0) RETURNING id")).scalars().all()
    sessions = session_factory(engine_for(api_settings))
    both_hold_one = threading.Barrier(2, timeout=30)
    attempts = {"a": 0, "b": 0}
    failures: list[BaseException] = []

    def crosswise(name: str, one: int, other: int):
        def work(session):
            attempts[name] += 1
            session.execute(text("UPDATE users SET balance = balance + 1 WHERE id = :id"), {"id": one})
            if attempts[name] == 1:
                both_hold_one.wait()
            session.execute(text("UPDATE users SET balance = balance + 1 WHERE id = :id"), {"id": other})

        try:
            in_transaction(sessions, work)
        except BaseException as error:  # reported below: a thread's exception would vanish otherwise
            failures.append(error)

    threads = [threading.Thread(target=crosswise, args=("a", first, second)),
               threading.Thread(target=crosswise, args=("b", second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    with engine.connect() as conn:
        balances = conn.execute(text("SELECT balance FROM users WHERE id IN (:a, :b)"), {"a": first, "b": second}).scalars().all()
    assert balances == [2, 2]
    assert sorted(attempts.values()) == [1, 2], attempts


@pytest.fixture(scope="module")
def unreachable_app():
    settings = Settings(DATABASE_URL="postgresql+psycopg2://outbox:outbox@127.0.0.1:1/outbox", ADMIN_TOKEN="x")
    return create_app(settings)


def test_readiness_is_503_while_the_database_cannot_be_reached(unreachable_app):
    response = unreachable_app.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert unreachable_app.test_client().get("/healthz").status_code == 200


def test_a_payment_while_the_database_cannot_be_reached_is_a_clean_503(unreachable_app):
    response = unreachable_app.test_client().post("/api/orders/1/payment", json={"userId": 1})
    assert response.status_code == 503
    assert response.get_json() == {"error": {"code": "SERVICE_UNAVAILABLE", "message": "database unavailable"}}


def unpaid_order(api: Api) -> tuple[int, int, int]:
    """(userId, optionId, orderId): one option of 10,000 ordered by a user holding 50,000."""
    user_id, option_id = api.user(balance=50_000), api.option(price=10_000)
    return user_id, option_id, api.order(user_id, option_id)["orderId"]


def idle_pooled_connections(app) -> list:
    """Every connection of the app's pool, checked out (all idle now: the test client is single-threaded)."""
    pool = app.extensions["order_api"].engine.pool
    return [pool.connect() for _ in range(pool.checkedin())]


def test_a_payment_chosen_as_deadlock_victim_is_retried_and_pays_once(client, engine):
    """The payment's prepared statements fail as SQLAlchemy errors, so in_transaction retries them.

    A transaction holds the order's option; the payment locks the order, then waits for the option;
    the transaction then asks for the order. The payment waited first, so PostgreSQL's deadlock
    check aborts the payment, and the transaction gets the order lock it waited for."""
    api = Api(client)
    user_id, option_id, order_id = unpaid_order(api)
    outcome: dict = {}
    with engine.connect() as blocker:
        blocker.begin()
        blocker.execute(text("SELECT 1 FROM product_options WHERE id = :id FOR UPDATE"), {"id": option_id})
        payment = threading.Thread(target=lambda: outcome.update(response=api.pay(order_id, user_id)))
        payment.start()
        wait_for(lambda: scalar(engine, "SELECT count(*) FROM pg_stat_activity"
                                        " WHERE datname = current_database() AND wait_event_type = 'Lock'") == 1,
                 timeout=10, what="the payment waits for the option")
        blocker.execute(text("SELECT 1 FROM orders WHERE id = :id FOR UPDATE"), {"id": order_id})  # the victim is not us
        blocker.rollback()
    payment.join(timeout=30)
    response = outcome["response"]
    assert response.status_code == 200, response.get_data(as_text=True)
    assert api.balance(user_id) == 40_000
    assert scalar(engine, "SELECT count(*) FROM balance_log WHERE ref_id = :id", id=order_id) == 1
    assert scalar(engine, "SELECT count(*) FROM outbox WHERE aggregateid = :id", id=str(order_id)) == 1


def test_a_payment_on_a_connection_the_database_dropped_is_a_503_that_changes_nothing_and_the_next_pays(
    app, client, engine, snapshot,
):
    """No ping on checkout: a pooled connection PostgreSQL ended fails its request cleanly, and the
    pool is renewed so the next request pays."""
    api = Api(client)
    user_id, _, order_id = unpaid_order(api)
    idle = idle_pooled_connections(app)
    pids = [connection.dbapi_connection.get_backend_pid() for connection in idle]
    for connection in idle:
        connection.close()  # back to the pool
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"), {"pids": pids})
    wait_for(lambda: scalar(engine, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(CAST(:pids AS int[]))",
                           pids=pids) == 0, timeout=10, what="the pooled connections ended")
    before = snapshot()
    response = api.pay(order_id, user_id)
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert snapshot() == before
    assert api.pay(order_id, user_id).status_code == 200
    assert api.balance(user_id) == 40_000


def test_a_connection_whose_statements_were_prepared_only_half_way_still_pays(app, client, engine):
    api = Api(client)
    user_id, _, order_id = unpaid_order(api)
    idle = idle_pooled_connections(app)
    for connection in idle:  # as if preparing had failed after the first statement
        connection.info.pop(payments._PREPARED, None)
        cursor = connection.dbapi_connection.cursor()
        cursor.execute("DEALLOCATE ALL; PREPARE payment_lock_order(bigint) AS SELECT 1")
        connection.dbapi_connection.commit()
        connection.close()
    response = api.pay(order_id, user_id)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert api.balance(user_id) == 40_000
