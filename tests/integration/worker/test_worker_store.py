"""A valid record becomes its Redis key; poison goes to the dead-letter topic at once; a record Redis
refuses on its own goes there after its retries while the records around it are stored."""
import json

import pytest
import redis

from harness.waiting import wait_for
from platform_worker.decode import OrderRecord
from platform_worker.errors import RecordRefused
from platform_worker.store import OrderStore, connect, redis_key
from tests.integration.worker.support import (
    dead_lettered, dead_lettered_ids, event_headers, header, order_ids, order_value, stored, topic_size,
)

DLQ_HEADERS = (
    "dlq.original.topic", "dlq.original.partition", "dlq.original.offset", "dlq.error.class",
    "dlq.error.message", "dlq.attempts", "dlq.failed.at", "dlq.consumer.group",
)


def test_a_valid_record_is_stored_with_its_value_bytes_unchanged_for_an_hour(
    start_worker, producer, redis_client, test_env
):
    worker = start_worker()
    [order_id] = order_ids(test_env, 1)
    value = order_value(order_id).replace(b", ", b" ,  ")  # odd spacing: the bytes must survive as they are
    producer.send(str(order_id).encode(), value)
    producer.flush()
    wait_for(lambda: redis_client.get(redis_key(order_id)), timeout=30, what="the key in Redis")
    assert redis_client.get(redis_key(order_id)) == value
    assert 3590 <= redis_client.ttl(redis_key(order_id)) <= 3600
    assert worker.metric("worker_records_total", result="stored") >= 1
    assert worker.metric("worker_end_to_end_latency_seconds_count") >= 1
    assert worker.metric("worker_end_to_end_latency_seconds_bucket", le="+Inf") >= 1
    lags = lambda: [worker.metric("worker_consumer_lag", topic=producer.topic, partition=str(p)) for p in range(6)]
    wait_for(lambda: worker.metric("worker_assigned_partitions") == 6 and lags() == [0.0] * 6, timeout=10,
             what="lag reported as 0 on every partition")


def test_a_repeated_record_leaves_the_same_value(start_worker, producer, redis_client, test_env):
    start_worker()
    ids = order_ids(test_env, 2)
    value = order_value(ids[0])
    producer.send(str(ids[0]).encode(), value)
    producer.send(str(ids[0]).encode(), value)
    producer.orders([ids[1]])  # same partition order not guaranteed across keys: wait on both
    wait_for(lambda: stored(redis_client, ids) == set(ids), timeout=30, what="both keys")
    assert redis_client.get(redis_key(ids[0])) == value


POISON = {
    "not-utf8": b"\xff\xfe{\"orderId\": 1}",
    "not-json": b"{orderId: 1,",
    "missing-order-id": json.dumps({"userId": 7, "finalAmount": 1, "couponId": None, "items": [],
                                    "processedAt": "2026-11-23T10:15:30.123Z"}).encode(),
    "wrong-types": json.dumps({"orderId": "12", "userId": 7, "finalAmount": "lots", "couponId": None,
                               "items": [], "processedAt": "2026-11-23T10:15:30.123Z"}).encode(),
}


@pytest.mark.parametrize("kind", POISON)
def test_poison_goes_to_the_dead_letter_topic_at_once_with_its_origin_and_the_worker_moves_on(
    kind, start_worker, producer, redis_client, test_env, worker_env
):
    worker = start_worker()
    poison_key, [after] = f"poison-{kind}".encode(), order_ids(test_env, 1)
    headers = event_headers()
    producer.send(poison_key, POISON[kind], headers=headers)
    producer.orders([after])
    wait_for(lambda: stored(redis_client, [after]), timeout=30, what="the record after the poison stored")

    [record] = dead_lettered(test_env.kafka_brokers, worker_env["WORKER_DLQ_TOPIC"], expected=1)
    assert (record.key, record.value) == (poison_key, POISON[kind])
    assert record.headers[: len(headers)] == headers
    assert all(header(record, name) for name in DLQ_HEADERS)
    assert header(record, "dlq.original.topic") == worker_env["WORKER_TOPIC"]
    assert header(record, "dlq.error.class") == "PoisonRecord"
    assert header(record, "dlq.attempts") == "1"
    assert header(record, "dlq.consumer.group") == worker_env["WORKER_GROUP_ID"]
    assert worker.metric("worker_retry_attempts_total") == 0
    assert worker.metric("worker_records_total", result="dead_lettered") == 1


@pytest.fixture
def store_allowed_only_keys_ending_in_1(test_env, redis_client):
    """An OrderStore logged in as a Redis user that may SET only keys ending in 1: every other SET of
    a batch is answered with an error (NOPERM) in the middle of the replies."""
    user = f"test-store-{test_env.run_id}"
    redis_client.execute_command("ACL", "SETUSER", user, "on", ">secret", "~data:order:processed:*1", "+set", "+select", "+ping")
    url = redis.Redis.from_url(test_env.redis_url).connection_pool.connection_kwargs
    client = redis.Redis(host=url.get("host", "127.0.0.1"), port=url.get("port", 6379), db=url.get("db", 0),
                         username=user, password="secret", socket_timeout=5)
    store = OrderStore(client, ttl_s=3600)
    yield store
    client.close()
    redis_client.execute_command("ACL", "DELUSER", user)


def test_a_set_refused_mid_batch_is_returned_alone_and_the_others_are_stored(
    store_allowed_only_keys_ending_in_1, redis_client, test_env
):
    store = store_allowed_only_keys_ending_in_1
    ids = [order_id for order_id in order_ids(test_env, 40) if order_id % 10 == 1][:3]
    refused = ids[0] + 1  # ends in 2
    batch = [OrderRecord(order_id, order_value(order_id), None) for order_id in [ids[0], refused, ids[1]]]

    [(index, error)] = store.store(batch)
    assert index == 1 and isinstance(error, RecordRefused) and "NOPERM" in str(error)
    assert stored(redis_client, [ids[0], refused, ids[1]]) == {ids[0], ids[1]}

    value = order_value(ids[2])
    assert store.store([OrderRecord(ids[2], value, None)]) == []  # the same connection, no stale replies
    assert redis_client.get(redis_key(ids[2])) == value


def test_a_record_redis_refuses_alone_is_dead_lettered_after_its_retries_while_the_others_are_stored(
    start_worker, producer, redis_client, redis_user, test_env, worker_env
):
    ids = order_ids(test_env, 30)
    refused = {order_id for order_id in ids if order_id % 10 == 7}
    worker = start_worker(REDIS_URL=redis_user("data:order:processed:*[^7]"), WORKER_MAX_ATTEMPTS="3",
                          WORKER_BACKOFF_BASE_SECONDS="0.05", WORKER_BACKOFF_MAX_SECONDS="0.2")
    producer.orders(ids)

    records = dead_lettered(test_env.kafka_brokers, worker_env["WORKER_DLQ_TOPIC"], expected=len(refused))
    assert dead_lettered_ids(records) == refused
    assert {header(r, "dlq.error.class") for r in records} == {"RecordRefused"}
    assert {header(r, "dlq.attempts") for r in records} == {"3"}
    assert all("NOPERM" in header(r, "dlq.error.message") for r in records)
    wait_for(lambda: stored(redis_client, ids) == set(ids) - refused, timeout=30, what="the others stored")
    assert worker.metric("worker_retry_attempts_total") >= 2
    assert worker.metric("worker_sink_down_seconds_total") == 0
    assert worker.ready() == 200
    assert topic_size(test_env.kafka_brokers, worker_env["WORKER_DLQ_TOPIC"]) == len(refused)


def test_a_batch_whose_replies_span_many_reads_is_stored_whole(redis_client, test_env):
    store = OrderStore(connect(test_env.redis_url, 5.0), ttl_s=3600)
    ids = order_ids(test_env, 10_000) + order_ids(test_env, 10_000) + order_ids(test_env, 10_000)
    store.store([OrderRecord(order_id, order_value(order_id), None) for order_id in ids])  # 150 KB of replies
    assert stored(redis_client, ids) == set(ids)
