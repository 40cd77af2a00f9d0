"""Fixtures over the real components: a database, topics and Redis of this test run's own."""
import warnings

import pytest
import redis
from sqlalchemy import create_engine

from harness import database
from tests.support.environment import TestEnvironment


@pytest.fixture(scope="session")
def test_env() -> TestEnvironment:
    return TestEnvironment()


@pytest.fixture(scope="session")
def database_url(test_env):
    database.create_database(test_env.base_database_url, test_env.database_name)
    from alembic import command

    command.upgrade(database.alembic_config(test_env.database_url), "head")
    database.restart_identities(test_env.database_url, test_env.id_offset)
    yield test_env.database_url
    database.drop_database(test_env.base_database_url, test_env.database_name)


@pytest.fixture(scope="session")
def engine(database_url):
    engine = create_engine(database_url, pool_size=10, max_overflow=20)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def kafka_topic_prefix(test_env):
    """Every topic a test creates starts with this prefix; all of them are deleted when the session ends."""
    prefix = f"test-{test_env.run_id}"
    yield prefix
    from common.kafka_admin import delete_topics

    try:
        delete_topics(test_env.kafka_brokers, prefix)
    except Exception as error:  # a broker that is down costs us nothing but the disk they take
        warnings.warn(f"topics {prefix}* not deleted: {error!r}")


@pytest.fixture(scope="session")
def topics(test_env, kafka_topic_prefix):
    from common.kafka_admin import ensure_topics

    ensure_topics(test_env.kafka_brokers, [(test_env.topic, 6), (test_env.dlq_topic, 6)])
    return test_env.topic, test_env.dlq_topic


@pytest.fixture(scope="session")
def redis_client(test_env):
    client = redis.Redis.from_url(test_env.redis_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def service_env(test_env, database_url, topics) -> dict[str, str]:
    """The environment under which the three services run for this test run."""
    return {
        "DATABASE_URL": database_url,
        "KAFKA_BROKERS": test_env.kafka_brokers,
        "REDIS_URL": test_env.redis_url,
        "ADMIN_TOKEN": "test-admin-token",
        "ENVIRONMENT": "test",
        "API_ORDER_PROCESSED_TOPIC": test_env.topic,
        "WORKER_TOPIC": test_env.topic,
        "WORKER_DLQ_TOPIC": test_env.dlq_topic,
        "WORKER_GROUP_ID": test_env.group_id,
    }
