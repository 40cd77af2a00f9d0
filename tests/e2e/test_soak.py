"""bench.soak's machinery for a minute: the three services, retention on a compressed clock, a long
transaction, two windows of figures, and nothing lost on the way to Redis."""
import pytest
from sqlalchemy import create_engine, text

from bench import soak
from harness.provision import Infrastructure, drop, provision
from harness.waiting import wait_for
from platform_worker.store import redis_key

PLAN = soak.Plan(minutes=1.0, window_minutes=0.5, rate=40.0, retention_minutes=0.2, retention_interval_s=2.0,
                 long_transaction_minutes=0.25, long_transaction_window=2,
                 autovacuum={"autovacuum_vacuum_threshold": 10_000.0}, probe_s=5.0)


@pytest.fixture(scope="module")
def infra(test_env):
    return Infrastructure(test_env.base_database_url, test_env.kafka_brokers, test_env.redis_url)


@pytest.fixture(scope="module")
def soaked(infra):
    run_ = provision(infra, "test_soak")
    try:
        yield run_, soak.soak(PLAN, infra, run_)
    finally:
        drop(infra, run_)


def _scalar(database_url: str, sql: str):
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def test_every_window_has_its_figures(soaked):
    _, result = soaked
    assert [w["window"] for w in result["windows"]] == [1, 2]
    for window in result["windows"]:
        assert window["achieved_per_s"] > 0 and window["e2e_p99_ms"] is not None
        assert window["total_bytes"] > window["heap_bytes"] > 0 and window["index_bytes"] > 0
        assert window["claim_ms_median"] is not None and window["autovacuums"] >= 0
        cores = window["cpu"]["cores"]  # where the CPU went: the API and its own PostgreSQL sessions by name
        assert cores["order-api"] > 0 and cores["postgres: order_api"] > 0 and cores["relay-1"] > 0


def test_every_paid_order_reaches_redis(soaked, redis_client):
    run_, result = soaked
    paid = create_engine(run_.database_url)
    with paid.connect() as conn:
        order_ids = conn.execute(text("SELECT id FROM orders WHERE status = 'PAID'")).scalars().all()
    paid.dispose()
    keys = [redis_key(order_id) for order_id in order_ids]
    assert len(order_ids) == result["paid"] == int(PLAN.rate * PLAN.window_s) * PLAN.windows
    wait_for(lambda: redis_client.exists(*keys) == len(keys), timeout=60, what="every paid order in Redis")
    assert result["not_in_redis"] == 0


def test_retention_deleted_what_was_older_than_its_period(soaked):
    run_, result = soaked
    held = _scalar(run_.database_url, "SELECT count(*) FROM outbox")
    assert held == result["rows_at_end"] < result["paid"]
    assert result["deleted_by_retention"] > 0


def test_the_long_transaction_was_open_in_its_window_and_the_settings_took(soaked):
    _, result = soaked
    first, second = result["windows"]
    assert first["long_transaction_open_s"] == 0 and second["long_transaction_open_s"] > 0
    assert result["long_transaction"]["ended"] is not None
    assert ["autovacuum_vacuum_threshold=10000"] in result["reloptions"].values()
