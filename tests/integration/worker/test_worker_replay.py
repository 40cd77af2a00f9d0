"""`platform-worker replay-dlq`: dead letters go back to the topic once each, and land in Redis."""
import os
import subprocess

from harness.services import BIN
from harness.waiting import wait_for
from tests.integration.worker.support import dead_lettered, dead_lettered_ids, header, order_ids, stored

REFUSING = {"WORKER_MAX_ATTEMPTS": "2", "WORKER_BACKOFF_BASE_SECONDS": "0.01"}


def replay(worker_env, *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "platform-worker"), "replay-dlq", *args],
        env={**os.environ, **worker_env}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def dead_letter_while_redis_refuses_their_keys(start_worker, producer, test_env, worker_env, redis_user, ids):
    broken = start_worker(REDIS_URL=redis_user("no-order-key:*"), **REFUSING)
    producer.orders(ids)
    records = dead_lettered(test_env.kafka_brokers, worker_env["WORKER_DLQ_TOPIC"], expected=len(ids))
    broken.process.stop()
    assert dead_lettered_ids(records) == set(ids)
    assert {header(r, "dlq.error.class") for r in records} == {"RecordRefused"}
    assert {header(r, "dlq.attempts") for r in records} == {"2"}
    return records


def test_records_dead_lettered_while_redis_refused_them_are_replayed_once_into_redis(
    start_worker, producer, redis_client, redis_user, test_env, worker_env
):
    ids = order_ids(test_env, 20)
    dead_letter_while_redis_refuses_their_keys(start_worker, producer, test_env, worker_env, redis_user, ids)
    assert stored(redis_client, ids) == set()
    start_worker()

    assert replay(worker_env).startswith("replayed 20 record(s)")
    wait_for(lambda: stored(redis_client, ids) == set(ids), timeout=30, what="replayed records in Redis")
    assert replay(worker_env).startswith("replayed 0 record(s)")
    again = dead_lettered(test_env.kafka_brokers, worker_env["WORKER_TOPIC"], expected=40)
    assert len(again) == 40  # 20 originals + 20 replays, nothing replayed twice
    assert all(not name.startswith("dlq.") for r in again for name, _ in r.headers)


def test_a_replay_filtered_by_order_id_leaves_the_other_records_for_a_later_run(
    start_worker, producer, redis_client, redis_user, test_env, worker_env
):
    ids = order_ids(test_env, 10)
    dead_letter_while_redis_refuses_their_keys(start_worker, producer, test_env, worker_env, redis_user, ids)
    start_worker()

    assert replay(worker_env, "--order-id", str(ids[3])).startswith("replayed 1 record(s)")
    wait_for(lambda: stored(redis_client, ids) == {ids[3]}, timeout=30, what="only the chosen order stored")
    assert replay(worker_env, "--limit", "4").startswith("replayed 4 record(s)")
    assert replay(worker_env).startswith("replayed 5 record(s)")
    assert replay(worker_env).startswith("replayed 0 record(s)")
    wait_for(lambda: stored(redis_client, ids) == set(ids), timeout=30, what="every order stored")
