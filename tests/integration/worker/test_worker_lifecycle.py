"""Crashes, graceful stops and scale-out: whatever happens to workers, no record is lost."""
import signal
import time

from kafka import KafkaAdminClient

from common.kafka_connection import parse_brokers
from harness.waiting import wait_for
from tests.integration.worker.support import Stream, order_ids, stored, topic_size


def group_members(brokers: str, group_id: str) -> list:
    admin = KafkaAdminClient(bootstrap_servers=parse_brokers(brokers))
    try:
        return admin.describe_groups([group_id])[group_id]["members"]
    finally:
        admin.close()


def test_sigterm_stops_polling_commits_leaves_the_group_and_exits_zero_within_ten_seconds(
    start_worker, producer, redis_client, test_env, worker_env
):
    worker = start_worker()
    ids = order_ids(test_env, 3000)
    stream = Stream(producer, ids, rate=1000).start()
    wait_for(lambda: len(stored(redis_client, ids)) >= 500, timeout=60, what="500 records stored")

    asked_at = time.monotonic()
    exit_code = worker.process.stop(signal.SIGTERM, timeout=15)
    assert exit_code == 0
    assert time.monotonic() - asked_at < 10
    assert group_members(test_env.kafka_brokers, worker_env["WORKER_GROUP_ID"]) == []

    stream.join()
    start_worker()
    wait_for(lambda: stored(redis_client, ids) == set(ids), timeout=60, what="every record stored")


def test_a_worker_killed_mid_stream_loses_nothing(start_worker, producer, redis_client, test_env):
    worker = start_worker()
    ids = order_ids(test_env, 4000)
    stream = Stream(producer, ids, rate=1000).start()
    wait_for(lambda: len(stored(redis_client, ids)) >= 1000, timeout=60, what="1000 records stored")
    worker.process.kill()
    stream.join()
    start_worker()
    wait_for(lambda: stored(redis_client, ids) == set(ids), timeout=90, what="every record stored")


def test_three_workers_share_the_partitions_and_one_joining_or_leaving_mid_stream_loses_nothing(
    start_worker, producer, redis_client, test_env, worker_env
):
    workers = [start_worker() for _ in range(3)]
    wait_for(
        lambda: [w.metric("worker_assigned_partitions") for w in workers] == [2, 2, 2],
        timeout=30, what="two partitions each",
    )
    ids = order_ids(test_env, 6000)
    stream = Stream(producer, ids, rate=1000).start()
    wait_for(lambda: len(stored(redis_client, ids)) >= 1500, timeout=60, what="a quarter stored")
    joiner = start_worker()
    wait_for(lambda: joiner.metric("worker_assigned_partitions") >= 1, timeout=30, what="the joiner owns partitions")
    wait_for(lambda: len(stored(redis_client, ids)) >= 3000, timeout=60, what="half stored")
    assert workers[0].process.stop(signal.SIGTERM) == 0
    stream.join()
    wait_for(lambda: stored(redis_client, ids) == set(ids), timeout=90, what="every record stored")
    survivors = workers[1:] + [joiner]
    wait_for(
        lambda: sum(w.metric("worker_assigned_partitions") for w in survivors) == 6,
        timeout=30, what="the survivors own all six partitions",
    )
    assert len(group_members(test_env.kafka_brokers, worker_env["WORKER_GROUP_ID"])) == 3


def test_sigterm_while_waiting_for_an_unreachable_redis_exits_in_time_and_leaves_the_batch_for_the_next_owner(
    start_worker, producer, redis_client, test_env, worker_env
):
    from harness.services import free_port

    stuck = start_worker(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", WORKER_BACKOFF_MAX_SECONDS="5")
    ids = order_ids(test_env, 50)
    producer.orders(ids)
    wait_for(lambda: stuck.metric("worker_sink_down") == 1, timeout=30, what="the sink reported down")
    assert "sink down" in stuck.readiness()

    asked_at = time.monotonic()
    assert stuck.process.stop(signal.SIGTERM, timeout=15) == 0
    assert time.monotonic() - asked_at < 10
    start_worker()
    wait_for(lambda: stored(redis_client, ids) == set(ids), timeout=60, what="every record stored by the next worker")
    assert topic_size(test_env.kafka_brokers, worker_env["WORKER_DLQ_TOPIC"]) == 0
