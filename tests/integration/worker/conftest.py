"""Per-test topics and group for the worker, and a factory that starts real `platform-worker` processes."""
import re
import secrets
from urllib.parse import urlsplit

import pytest

from common.kafka_admin import ensure_topics
from harness.services import ServiceProcess, free_port
from tests.integration.worker.support import Producer, Worker


@pytest.fixture
def worker_env(service_env, test_env, request):
    """The worker's environment with topics and group of this test alone (a tripped flood guard or a
    half-consumed stream never leaks into the next test)."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40] + "-" + secrets.token_hex(2)
    topic, dlq = f"{test_env.topic}.{name}", f"{test_env.dlq_topic}.{name}"
    ensure_topics(test_env.kafka_brokers, [(topic, 6), (dlq, 6)])
    return {
        **service_env,
        "WORKER_TOPIC": topic,
        "WORKER_DLQ_TOPIC": dlq,
        "WORKER_GROUP_ID": f"{test_env.group_id}.{name}",
        "WORKER_REPLAY_GROUP_ID": f"{test_env.group_id}.{name}.replay",
    }


@pytest.fixture
def producer(worker_env, test_env):
    producer = Producer(test_env.kafka_brokers, worker_env["WORKER_TOPIC"])
    yield producer
    producer.close()


@pytest.fixture
def start_worker(worker_env):
    started: list[Worker] = []

    def start(wait_ready: bool = True, **overrides: str) -> Worker:
        port = free_port()
        env = {**worker_env, "WORKER_METRICS_PORT": str(port), **overrides}
        path = "readyz" if wait_ready else "metrics"
        process = ServiceProcess("platform-worker", env=env, health_url=f"http://127.0.0.1:{port}/{path}")
        worker = Worker(process.start(), port)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.process.kill()


@pytest.fixture
def redis_user(test_env, redis_client):
    """`make(keys)`: a Redis URL logged in as a user of this test that may SET only keys matching the glob
    `keys`; Redis answers every other SET with NOPERM, in the middle of a pipeline's replies."""
    made: list[str] = []

    def make(keys: str) -> str:
        user = f"test-worker-{test_env.run_id}-{len(made)}"
        redis_client.execute_command("ACL", "SETUSER", user, "reset", "on", ">secret", f"~{keys}", "+set", "+select", "+ping")
        made.append(user)
        url = urlsplit(test_env.redis_url)
        return f"redis://{user}:secret@{url.hostname}:{url.port or 6379}{url.path or '/0'}"

    yield make
    for user in made:
        redis_client.execute_command("ACL", "DELUSER", user)
