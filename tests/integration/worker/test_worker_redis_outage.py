"""Redis stopped for real (stack/native.sh stop redis) during a stream: every record ends in Redis or
in the dead-letter topic, the worker stays in its group, and the dead letters replay into Redis.

Stops the Redis of the stack named by the environment (STACK_DIR and ports): run it against a private
stack when others share the default one. WORKER_TEST_OUTAGE_SECONDS sets the outage (20).
"""
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.worker.support import Stream, TopicReader, dead_lettered_ids, header, order_ids, stored
from tests.integration.worker.test_worker_replay import replay
from tests.support.waiting import wait_for

NATIVE = Path(__file__).resolve().parents[3] / "stack" / "native.sh"
OUTAGE_SECONDS = float(os.environ.get("WORKER_TEST_OUTAGE_SECONDS", "20"))
RECORDS = int(os.environ.get("WORKER_TEST_OUTAGE_RECORDS", "1000"))

pytestmark = pytest.mark.slow

# Retries would go on for ever (1000 attempts) if the time budget did not stop them: a third of a
# 15 s max_poll_interval_ms. The worker must never be evicted from its group while Redis is down.
PATIENT_WORKER = {
    "WORKER_MAX_ATTEMPTS": "1000",
    "WORKER_MAX_POLL_INTERVAL_MS": "15000",
    "WORKER_BACKOFF_BASE_SECONDS": "0.2",
    "WORKER_BACKOFF_MAX_SECONDS": "2",
    "WORKER_REDIS_TIMEOUT_SECONDS": "1",
}


def native(command: str, name: str) -> None:
    subprocess.run([str(NATIVE), command, name], check=True, stdout=subprocess.DEVNULL)


def test_redis_down_during_a_stream_loses_nothing_and_the_dead_letters_replay_into_redis(
    start_worker, producer, redis_client, test_env, worker_env
):
    worker = start_worker(**PATIENT_WORKER)
    dlq = TopicReader(test_env.kafka_brokers, worker_env["WORKER_DLQ_TOPIC"])
    ids = order_ids(test_env, RECORDS)
    stream = Stream(producer, ids, rate=RECORDS / (OUTAGE_SECONDS + 10)).start()
    wait_for(lambda: len(stored(redis_client, ids)) >= RECORDS // 10, timeout=60, what="a tenth stored")

    native("stop", "redis")
    stopped_at = time.monotonic()
    try:
        wait_for(
            lambda: dlq.read() and time.monotonic() - stopped_at >= OUTAGE_SECONDS,
            timeout=OUTAGE_SECONDS + 30, interval=0.5, what="dead letters during an outage of the full length",
        )
        assert worker.alive()
    finally:
        native("start", "redis")
    outage = time.monotonic() - stopped_at
    stream.join()

    def accounted() -> bool:
        return stored(redis_client, ids) | dead_lettered_ids(dlq.read()) == set(ids)

    wait_for(accounted, timeout=120, interval=0.5, what="every record in Redis or in the dead-letter topic")
    in_redis, dead = stored(redis_client, ids), dead_lettered_ids(dlq.records)
    print(f"outage {outage:.1f}s: {len(in_redis)} of {RECORDS} in Redis, {len(dead)} dead-lettered "
          f"({len(dead - in_redis)} only there), retries {worker.metric('worker_retry_attempts_total'):.0f}")
    assert {header(r, "dlq.error.class") for r in dlq.records} == {"TransientError"}
    assert worker.alive() and worker.ready() == 200
    assert worker.metric("worker_partition_changes_total", event="revoked") == 0
    assert worker.metric("worker_partition_changes_total", event="lost") == 0
    assert worker.metric("worker_assigned_partitions") == 6
    assert worker.metric("worker_retry_attempts_total") > 0

    missing = dead - in_redis
    assert missing, "the outage dead-lettered nothing that Redis lacks"
    assert replay(worker_env).startswith(f"replayed {len(dlq.records)} record(s)")
    wait_for(lambda: stored(redis_client, ids) == set(ids), timeout=60, what="the replayed records in Redis")
    assert replay(worker_env).startswith("replayed 0 record(s)")
    dlq.close()
