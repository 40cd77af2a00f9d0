"""The transaction runner retries what PostgreSQL asks to retry, and a database outage is a clean 503."""
import threading

import pytest
from sqlalchemy import text

from order_api.adapters.database import engine_for, in_transaction, session_factory
from order_api.config import Settings
from order_api.entrypoints.app import create_app


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
