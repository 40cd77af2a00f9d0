"""What a KRaft cluster looks like from outside: its quorum, its brokers, its replicas.

Guarantees:
- `wait_until_formed` returns only once every one of `nodes` nodes is an unfenced broker and a
  voter of the metadata quorum that has caught up with the quorum's high watermark (KIP-853's
  DescribeQuorum), so a cluster it accepted has survived no fault yet, not half-started.
- `wait_until_replicated` returns only once every partition of the named topics has all its
  replicas in sync (ISR = replicas), with the replication factor expected.
- `leader_counts`, `active_controller` and `group_coordinator` name the node a fault should hit.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence

from kafka.errors import KafkaError

from common.kafka_admin import _admin

POLL_S = 0.5


class ClusterNotReady(RuntimeError):
    """The cluster did not reach the awaited state before the deadline."""


def _until(check, timeout_s: float, what: str):
    """`check()` returns (True, answer) when done, else (False, what is still missing)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            done, answer = check()
            if done:
                return answer
        except (KafkaError, OSError, KeyError, IndexError) as error:  # a node may still be starting
            answer = repr(error)
        if time.monotonic() >= deadline:
            raise ClusterNotReady(f"{what} not within {timeout_s}s; last: {answer}")
        time.sleep(POLL_S)


def describe(brokers: str | Sequence[str]) -> tuple[dict, dict]:
    """(DescribeCluster, DescribeQuorum) answers from one admin connection."""
    admin = _admin(brokers)
    try:
        return admin.describe_cluster(), admin.describe_metadata_quorum()
    finally:
        admin.close()


def unfenced_brokers(cluster: dict) -> set[int]:
    return {b["broker_id"] for b in cluster.get("brokers", []) if not b.get("is_fenced")}


def quorum_partition(quorum: dict) -> dict:
    return quorum["topics"][0]["partitions"][0]


def caught_up_voters(quorum: dict) -> set[int]:
    partition = quorum_partition(quorum)
    high_watermark = partition["high_watermark"]
    return {v["replica_id"] for v in partition["current_voters"] if v["log_end_offset"] >= high_watermark}


def wait_until_formed(brokers: str | Sequence[str], nodes: int, timeout_s: float = 120.0) -> dict:
    def formed():
        cluster, quorum = describe(brokers)
        brokers_up, voters = unfenced_brokers(cluster), caught_up_voters(quorum)
        done = len(brokers_up) >= nodes and len(voters) >= nodes
        return done, cluster if done else f"unfenced brokers {sorted(brokers_up)}, caught-up voters {sorted(voters)}"

    return _until(formed, timeout_s, f"{nodes} unfenced brokers and caught-up voters")


def wait_until_node_up(brokers: str | Sequence[str], node_id: int, timeout_s: float) -> dict:
    def up():
        cluster, _ = describe(brokers)
        up_now = unfenced_brokers(cluster)
        return node_id in up_now, cluster if node_id in up_now else f"unfenced brokers {sorted(up_now)}"

    return _until(up, timeout_s, f"node {node_id} an unfenced broker")


def partitions(brokers: str | Sequence[str], topics: Iterable[str]) -> list[tuple[str, dict]]:
    admin = _admin(brokers)
    try:
        return [(t["name"], p) for t in admin.describe_topics(list(topics)) for p in t["partitions"]]
    finally:
        admin.close()


def wait_until_replicated(brokers: str | Sequence[str], topics: Iterable[str], replication_factor: int,
                          timeout_s: float = 120.0) -> None:
    names = list(topics)

    def replicated():
        lagging = [(topic, p["partition_index"]) for topic, p in partitions(brokers, names)
                   if len(p["replica_nodes"]) != replication_factor
                   or sorted(p["isr_nodes"]) != sorted(p["replica_nodes"])]
        return not lagging, f"{len(lagging)} partitions not fully replicated, e.g. {lagging[:5]}"

    _until(replicated, timeout_s, f"{names} fully replicated")


def leader_counts(brokers: str | Sequence[str], topic: str) -> Counter:
    """How many partitions of `topic` each node leads."""
    return Counter(p["leader_id"] for _, p in partitions(brokers, [topic]) if p["leader_id"] >= 0)


def active_controller(brokers: str | Sequence[str]) -> int:
    return quorum_partition(describe(brokers)[1])["leader_id"]


def group_coordinator(brokers: str | Sequence[str], group_id: str) -> int:
    admin = _admin(brokers)
    try:
        return admin._manager.run(admin._find_coordinator_id, group_id)
    finally:
        admin.close()
