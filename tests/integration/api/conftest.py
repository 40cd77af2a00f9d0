"""Fixtures for the order API: the app in-process over the run's database, and the real `order-api`
(gunicorn, several workers) where HTTP concurrency matters."""
import pytest
import requests
from urllib3.util.retry import Retry
from sqlalchemy import text

from harness.services import ServiceProcess, free_port
from order_api.config import Settings
from order_api.entrypoints.app import create_app

ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TABLES = [
    "users", "balance_log", "products", "product_options", "coupons", "user_coupons",
    "orders", "order_items", "idempotency_keys", "outbox",
]


@pytest.fixture(scope="session")
def api_env(test_env, database_url) -> dict[str, str]:
    """The API needs only PostgreSQL: no Kafka fixture, so these tests run without a broker."""
    return {
        "DATABASE_URL": database_url,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "ENVIRONMENT": "test",
        "API_ORDER_PROCESSED_TOPIC": test_env.topic,
        "API_EXPIRY_SWEEP_INTERVAL_SECONDS": "3600",
    }


@pytest.fixture(scope="session")
def api_settings(api_env) -> Settings:
    return Settings(**api_env)


@pytest.fixture(scope="session")
def app(api_settings):
    application = create_app(api_settings)
    yield application
    application.extensions["order_api"].engine.dispose()


@pytest.fixture()
def client(app):
    return app.test_client()


def start_api(env: dict[str, str], workers: int = 4) -> tuple[ServiceProcess, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = ServiceProcess(
        "order-api", env={**env, "API_PORT": str(port), "API_WORKERS": str(workers)}, health_url=f"{url}/readyz"
    ).start()
    return process, url


@pytest.fixture(scope="session")
def api_url(api_env):
    """The real `order-api` console script: gunicorn with 4 workers on a free port."""
    process, url = start_api(api_env)
    yield url
    process.stop()


@pytest.fixture()
def http():
    """One session per test. gunicorn closes a connection idle for `keepalive` (5 s); a pooled
    connection reused at that very moment is reset, so a session never outlives its test, and a
    GET (safe to repeat) is retried once when its connection was closed under it. Writes are never
    retried here: the concurrency tests count exactly what the server did."""
    session = requests.Session()
    retry = Retry(total=1, connect=1, read=1, status=0, other=0, allowed_methods={"GET"}, raise_on_status=False)
    session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64, max_retries=retry))
    yield session
    session.close()


@pytest.fixture()
def snapshot(engine):
    """Every row of every table the API writes: compare before and after to prove nothing changed."""

    def take() -> dict[str, list]:
        with engine.connect() as connection:
            return {
                table: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
                for table in TABLES
            }

    return take
