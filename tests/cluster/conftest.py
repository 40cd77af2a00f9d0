"""The cluster tests' fixtures: one three-node cluster per run (harness/cluster.py), topics
of this run on it, and the services' environment pointed at it."""
import warnings

import pytest

from common.kafka_admin import delete_topics, ensure_topics
from harness.cluster import Cluster


@pytest.fixture(scope="session")
def cluster(test_env):
    cluster = Cluster.for_tests().start()
    yield cluster
    try:
        cluster.stack("start", "kafka")  # a topic is deleted only with every replica's node up
        delete_topics(cluster.brokers, f"test-{test_env.run_id}")
    except Exception as error:
        warnings.warn(f"topics test-{test_env.run_id}* not deleted from the cluster: {error!r}")
    cluster.stop()


@pytest.fixture
def all_nodes(cluster):
    """Every node running at the start of the test (a fault test leaves its nodes as it needs them)."""
    cluster.stack("start", "kafka")
    return cluster


@pytest.fixture(scope="session")
def cluster_topics(cluster, test_env):
    topic, dlq = f"{test_env.topic}.cluster", f"{test_env.dlq_topic}.cluster"
    ensure_topics(cluster.brokers, [(topic, 6), (dlq, 6)])
    return topic, dlq


@pytest.fixture(scope="session")
def cluster_env(service_env, cluster, cluster_topics, test_env) -> dict[str, str]:
    topic, dlq = cluster_topics
    return {
        **service_env,
        "KAFKA_BROKERS": cluster.brokers,
        "API_ORDER_PROCESSED_TOPIC": topic,
        "WORKER_TOPIC": topic,
        "WORKER_DLQ_TOPIC": dlq,
        "WORKER_GROUP_ID": f"{test_env.group_id}.cluster",
    }


# the relay's per-test database, as in the relay's own tests
from tests.integration.relay.conftest import outbox_layout, relay_database_url, relay_engine  # noqa: E402,F401
