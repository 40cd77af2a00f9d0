"""Each relay test gets a database and a topic of its own, so counts and orders are exact."""
import itertools
import uuid

import pytest
from alembic import command
from sqlalchemy import create_engine

from common.kafka_admin import ensure_topics
from harness import database
from harness.services import free_port
from outbox_relay.config import Settings

_databases = itertools.count(1)


@pytest.fixture
def outbox_layout() -> str:
    """The outbox layout of migration 0005 for the module's relay databases (test_relay_partitions: partitioned)."""
    return "plain"


@pytest.fixture
def relay_database_url(test_env, outbox_layout):
    name = f"{test_env.database_name}_relay{next(_databases)}"
    url = test_env.database_url.replace(test_env.database_name, name)
    database.create_database(test_env.base_database_url, name)
    command.upgrade(database.alembic_config(url, outbox_layout), "head")
    database.restart_identities(url, test_env.id_offset)
    yield url
    database.drop_database(test_env.base_database_url, name)


@pytest.fixture
def relay_engine(relay_database_url):
    engine = create_engine(relay_database_url, pool_size=10, max_overflow=10)
    yield engine
    engine.dispose()


@pytest.fixture
def relay_topic(test_env, kafka_topic_prefix):
    topic = f"{kafka_topic_prefix}.relay-{uuid.uuid4().hex[:8]}"
    ensure_topics(test_env.kafka_brokers, [(topic, 6)])
    return topic


@pytest.fixture
def relay_settings(relay_database_url, test_env):
    return Settings(
        DATABASE_URL=relay_database_url,
        KAFKA_BROKERS=test_env.kafka_brokers,
        RELAY_OUTAGE_BACKOFF_INITIAL_SECONDS=0.2,
        RELAY_OUTAGE_BACKOFF_MAX_SECONDS=2.0,
        RELAY_ROW_RETRY_INITIAL_SECONDS=0.2,
        RELAY_ROW_RETRY_MAX_SECONDS=2.0,
    )


@pytest.fixture
def relay_env(relay_database_url, test_env):
    """Environment of an `outbox-relay` process; callers add RELAY_METRICS_PORT per process."""
    return {
        "DATABASE_URL": relay_database_url,
        "KAFKA_BROKERS": test_env.kafka_brokers,
        "ENVIRONMENT": "test",
        "RELAY_OUTAGE_BACKOFF_INITIAL_SECONDS": "0.2",
        "RELAY_OUTAGE_BACKOFF_MAX_SECONDS": "2",
        "RELAY_ROW_RETRY_INITIAL_SECONDS": "0.2",
        "RELAY_ROW_RETRY_MAX_SECONDS": "2",
    }


def relay_process_env(relay_env: dict[str, str], **extra: str) -> tuple[dict[str, str], str]:
    port = free_port()
    env = {**relay_env, "RELAY_METRICS_PORT": str(port), **{k: str(v) for k, v in extra.items()}}
    return env, f"http://127.0.0.1:{port}/metrics"
