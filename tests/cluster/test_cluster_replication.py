"""The three-node cluster as make up leaves it: one quorum of three, and every topic (the
project's and the broker's internal ones) on three replicas of which two must take each write."""
import pytest
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.protocol.metadata import CoordinatorType

from common.kafka_admin import _admin
from common.kafka_cluster import describe, partitions, quorum_partition, unfenced_brokers
from harness.waiting import wait_for

pytestmark = pytest.mark.cluster


def min_insync_replicas(brokers: str, topic: str) -> int:
    admin = _admin(brokers)
    try:
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic, ["min.insync.replicas"])],
                                         config_filter="all")
    finally:
        admin.close()
    return int(configs["topic"][topic]["min.insync.replicas"]["value"])


def touch_internal_topics(brokers: str) -> None:
    """The broker creates __consumer_offsets and __transaction_state on the first coordinator lookup."""
    admin = _admin(brokers)
    try:
        admin._manager.run(admin._find_coordinator_id, "cluster-test-group", CoordinatorType.GROUP)
        admin._manager.run(admin._find_coordinator_id, "cluster-test-transaction", CoordinatorType.TRANSACTION)
    finally:
        admin.close()


def test_all_three_nodes_are_brokers_and_voters_of_one_quorum(all_nodes):
    cluster = all_nodes
    described, quorum = describe(cluster.brokers)

    assert unfenced_brokers(described) == {1, 2, 3}
    assert {voter["replica_id"] for voter in quorum_partition(quorum)["current_voters"]} == {1, 2, 3}


def test_every_topic_has_three_replicas_and_needs_two_in_sync(all_nodes, cluster_topics):
    cluster = all_nodes
    wait_for(lambda: touch_internal_topics(cluster.brokers) or True, timeout=60, interval=0.5,
             what="coordinators found")
    topics = [*cluster_topics, "__consumer_offsets", "__transaction_state"]

    described = wait_for(lambda: partitions(cluster.brokers, topics), timeout=60, what="the topics described")

    assert {topic for topic, _ in described} == set(topics)
    assert all(len(partition["replica_nodes"]) == 3 for _, partition in described)
    assert {topic: min_insync_replicas(cluster.brokers, topic) for topic in topics} == dict.fromkeys(topics, 2)
