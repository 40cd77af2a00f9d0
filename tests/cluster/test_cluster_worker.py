"""The worker rides through the node that hosts its group coordinator being killed (SIGKILL).

Records keep coming while the coordinator moves to another node. Every record is stored, and
the records stored twice are only ones whose offsets the group had not committed when the node
died: nothing committed is redone, nothing is skipped.
"""
import pytest
from kafka import KafkaConsumer, TopicPartition

from common.kafka_cluster import group_coordinator
from common.kafka_connection import parse_brokers
from harness.services import ServiceProcess, free_port
from harness.waiting import wait_for
from tests.integration.worker.support import Producer, Stream, Worker, order_ids, stored

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


def committed_and_end(brokers: str, topic: str, group: str) -> tuple[dict, dict]:
    consumer = KafkaConsumer(bootstrap_servers=parse_brokers(brokers), group_id=group, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        return {tp: consumer.committed(tp) or 0 for tp in partitions}, consumer.end_offsets(partitions)
    finally:
        consumer.close(autocommit=False)


def test_the_worker_skips_nothing_and_redoes_only_uncommitted_records_when_its_coordinator_dies(
    all_nodes, cluster_env, redis_client, test_env
):
    cluster, topic, group = all_nodes, cluster_env["WORKER_TOPIC"], cluster_env["WORKER_GROUP_ID"]
    port = free_port()
    worker = Worker(ServiceProcess("platform-worker", {**cluster_env, "WORKER_METRICS_PORT": str(port)},
                                   f"http://127.0.0.1:{port}/readyz").start(), port)
    producer = Producer(cluster.brokers, topic)
    before, during = order_ids(test_env, 600), order_ids(test_env, 1500)
    try:
        producer.orders(before)
        wait_for(lambda: stored(redis_client, before) == set(before), timeout=60, what="stored before the fault")
        stream = Stream(producer, during, rate=150).start()
        wait_for(lambda: len(stored(redis_client, during)) >= 150, timeout=30, what="the stream being stored")

        coordinator = group_coordinator(cluster.brokers, group)
        committed_at_kill, _ = committed_and_end(cluster.brokers, topic, group)
        cluster.stack("kill", f"kafka-{coordinator}")

        stream.join()
        wait_for(lambda: stored(redis_client, during) == set(during), timeout=120, interval=0.5,
                 what="every record stored after the coordinator moved")
        assert wait_for(lambda: group_coordinator(cluster.brokers, group) != coordinator, timeout=30)
        handled = len(before) + len(during)
        wait_for(lambda: worker.metric("worker_records_total", result="stored") >= handled, timeout=30)
        committed, ends = wait_for(
            lambda: (lambda c, e: (c, e) if c == e else None)(*committed_and_end(cluster.brokers, topic, group)),
            timeout=60, what="the group committed every record")
        stored_count = worker.metric("worker_records_total", result="stored")
        assert worker.alive()
    finally:
        producer.close()
        worker.process.stop()

    duplicates = stored_count - handled
    uncommitted_at_kill = sum(ends[tp] - committed_at_kill[tp] for tp in ends)
    print(f"coordinator node {coordinator} killed; {duplicates} stored twice, {uncommitted_at_kill} records "
          f"uncommitted or not yet written when it died")
    assert 0 <= duplicates <= uncommitted_at_kill
