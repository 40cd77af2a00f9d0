"""A sink outage is waited out, never dead-lettered: Redis stopped for real (stack/native.sh stop redis)
or out of memory during a stream. The worker pauses, keeps its place in the group (same generation, no
partition moved), says why it is not ready, and stores every held record once Redis takes writes again.

Stops the Redis of the stack named by the environment (STACK_DIR and ports): run it against a private
stack when others share the default one. WORKER_TEST_OUTAGE_SECONDS sets the outage (60).
"""
import os
import subprocess
import time
from pathlib import Path

import pytest

from harness.waiting import wait_for
from tests.integration.worker.support import Stream, order_ids, stored, topic_size
from tests.integration.worker.test_worker_lifecycle import group_members

NATIVE = Path(__file__).resolve().parents[3] / "stack" / "native.sh"
OUTAGE_SECONDS = float(os.environ.get("WORKER_TEST_OUTAGE_SECONDS", "60"))
RATE = 50.0  # records/s, through the outage and for 10 s after it
BACK_WITHIN_S = 30.0

pytestmark = pytest.mark.slow


def native(command: str, name: str) -> None:
    subprocess.run([str(NATIVE), command, name], check=True, stdout=subprocess.DEVNULL)


def assert_kept_its_place(worker, test_env, worker_env, generation: float, members: set[str]) -> None:
    assert worker.alive() and worker.ready() == 200
    assert worker.metric("worker_sink_down") == 0
    assert worker.metric("worker_group_generation") == generation
    assert {m["member_id"] for m in group_members(test_env.kafka_brokers, worker_env["WORKER_GROUP_ID"])} == members
    assert worker.metric("worker_partition_changes_total", event="revoked") == 0
    assert worker.metric("worker_partition_changes_total", event="lost") == 0
    assert worker.metric("worker_assigned_partitions") == 6
    assert worker.metric("worker_records_total", result="dead_lettered") == 0
    assert topic_size(test_env.kafka_brokers, worker_env["WORKER_DLQ_TOPIC"]) == 0


def membership(worker, test_env, worker_env) -> tuple[float, set[str]]:
    wait_for(lambda: worker.metric("worker_group_generation") > 0, timeout=30, what="a generation reported")
    members = group_members(test_env.kafka_brokers, worker_env["WORKER_GROUP_ID"])
    return worker.metric("worker_group_generation"), {m["member_id"] for m in members}


def test_redis_stopped_for_a_minute_under_load_dead_letters_nothing_and_every_record_is_stored_soon_after(
    start_worker, producer, redis_client, test_env, worker_env
):
    worker = start_worker()
    ids = order_ids(test_env, int(RATE * (OUTAGE_SECONDS + 15)))
    stream = Stream(producer, ids, rate=RATE).start()
    wait_for(lambda: len(stored(redis_client, ids)) >= RATE * 3, timeout=60, what="3 s of records stored")
    generation, members = membership(worker, test_env, worker_env)

    native("stop", "redis")
    stopped_at = time.monotonic()
    try:
        wait_for(lambda: worker.metric("worker_sink_down") == 1, timeout=30, what="the sink reported down")
        assert worker.ready() == 503 and "sink down" in worker.readiness()
        wait_for(lambda: time.monotonic() - stopped_at >= OUTAGE_SECONDS and worker.alive(),
                 timeout=OUTAGE_SECONDS + 30, interval=1, what="an outage of the full length")
        assert worker.ready() == 503
        assert worker.metric("worker_records_total", result="dead_lettered") == 0
    finally:
        native("start", "redis")
    back_at, sent_before_back = time.monotonic(), stream.sent

    wait_for(lambda: stored(redis_client, ids[:sent_before_back]) == set(ids[:sent_before_back]),
             timeout=BACK_WITHIN_S, interval=0.5, what=f"every record sent during the outage stored within {BACK_WITHIN_S:g} s")
    print(f"outage {back_at - stopped_at:.1f} s: {sent_before_back} records sent until Redis returned, "
          f"all stored {time.monotonic() - back_at:.1f} s after it")
    stream.join()
    wait_for(lambda: stored(redis_client, ids) == set(ids), timeout=30, what="every record stored")
    wait_for(lambda: worker.ready() == 200, timeout=10, what="ready again")
    assert_kept_its_place(worker, test_env, worker_env, generation, members)
    assert worker.metric("worker_sink_down_seconds_total") >= OUTAGE_SECONDS - 5
    assert worker.metric("worker_retry_attempts_total") == 0


@pytest.fixture
def redis_config(redis_client):
    """Set Redis settings for one test; the originals come back afterwards whatever happens."""
    saved: dict[str, str] = {}

    def set_(name: str, value: str) -> None:
        saved.setdefault(name, redis_client.config_get(name)[name])
        redis_client.config_set(name, value)

    yield set_
    for name, value in saved.items():
        redis_client.config_set(name, value)


def test_redis_out_of_memory_is_an_outage_and_the_worker_resumes_by_itself_once_memory_is_raised(
    start_worker, producer, redis_client, redis_config, test_env, worker_env
):
    worker = start_worker(WORKER_BACKOFF_MAX_SECONDS="2")
    before, held = order_ids(test_env, 20), order_ids(test_env, 200)
    producer.orders(before)
    wait_for(lambda: stored(redis_client, before) == set(before), timeout=30, what="records stored before")
    generation, members = membership(worker, test_env, worker_env)

    redis_config("maxmemory-policy", "noeviction")
    redis_config("maxmemory", "1")  # below what Redis uses already: every write is refused with OOM
    producer.orders(held)
    wait_for(lambda: worker.metric("worker_sink_down") == 1, timeout=30, what="the sink reported down")
    assert "OOM" in worker.readiness()
    wait_for(lambda: worker.metric("worker_sink_down_seconds_total") >= 5, timeout=30, what="5 s of outage")
    assert stored(redis_client, held) == set()

    redis_client.config_set("maxmemory", "0")
    wait_for(lambda: stored(redis_client, held) == set(held), timeout=BACK_WITHIN_S, what="the held records stored")
    wait_for(lambda: worker.ready() == 200, timeout=10, what="ready again")
    assert_kept_its_place(worker, test_env, worker_env, generation, members)


def test_partitions_moving_to_a_worker_that_joins_during_an_outage_lose_nothing_and_dead_letter_nothing(
    start_worker, producer, redis_client, redis_config, test_env, worker_env
):
    redis_config("maxmemory-policy", "noeviction")
    redis_config("maxmemory", "1")
    ids = order_ids(test_env, 600)
    producer.orders(ids)  # before the first worker starts: the batch it holds spans all six partitions
    first = start_worker(wait_ready=False, WORKER_BACKOFF_MAX_SECONDS="1")
    wait_for(lambda: first.metric("worker_sink_down") == 1, timeout=30, what="the first worker holds a batch")

    second = start_worker(wait_ready=False, WORKER_BACKOFF_MAX_SECONDS="1")
    wait_for(lambda: first.metric("worker_partition_changes_total", event="revoked") == 3
             and second.metric("worker_assigned_partitions") == 3, timeout=60, what="three partitions moved")
    assert first.metric("worker_sink_down") == 1 and first.alive()

    redis_client.config_set("maxmemory", "0")
    wait_for(lambda: stored(redis_client, ids) == set(ids), timeout=BACK_WITHIN_S, what="every record stored")
    wait_for(lambda: first.ready() == 200 and second.ready() == 200, timeout=15, what="both ready again")
    assert topic_size(test_env.kafka_brokers, worker_env["WORKER_DLQ_TOPIC"]) == 0
    assert first.metric("worker_partition_changes_total", event="lost") == 0
