"""The relay on the three-node cluster: a row is marked published only once its record is on
min.insync.replicas (2) replicas. With one node of three stopped the relay goes on publishing; with
two stopped the broker refuses every write (NOT_ENOUGH_REPLICAS) and the relay marks nothing,
backs off instead of spinning, and publishes the backlog once a second node is back."""
import time

import pytest
from sqlalchemy import func, select

from common.kafka_admin import ensure_topics
from common.outbox import outbox
from harness.cpu import cpu_seconds
from harness.services import ServiceProcess, free_port
from harness.waiting import wait_for
from tests.integration.relay.outbox_rows import (
    assert_complete_and_in_key_order, consume_every_event, published_count, write_events,
)

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


def failed_attempts(engine) -> tuple[int, str | None]:
    """The most failed attempts of any row, and one row's last error."""
    with engine.connect() as conn:
        most = conn.execute(select(func.max(outbox.c.attempts))).scalar_one() or 0
        error = conn.execute(select(outbox.c.last_error).where(outbox.c.last_error.is_not(None)).limit(1)).scalar()
    return most, error


def test_nothing_is_marked_published_that_fewer_than_two_replicas_hold(all_nodes, relay_database_url, relay_engine,
                                                                       test_env):
    cluster = all_nodes
    topic = f"test-{test_env.run_id}.cluster.relay"
    ensure_topics(cluster.brokers, [(topic, 6)])
    port = free_port()
    relay = ServiceProcess("outbox-relay", {
        "DATABASE_URL": relay_database_url, "KAFKA_BROKERS": cluster.brokers, "ENVIRONMENT": "test",
        "RELAY_METRICS_PORT": str(port), "RELAY_BACKOFF_INITIAL_SECONDS": "0.5", "RELAY_BACKOFF_MAX_SECONDS": "2",
        "RELAY_REQUEST_TIMEOUT_MS": "2000", "RELAY_DELIVERY_TIMEOUT_MS": "3000",
    }, f"http://127.0.0.1:{port}/metrics").start()
    try:
        write_events(relay_engine, topic, list(range(100)))
        wait_for(lambda: published_count(relay_engine) == 100, timeout=30, what="published on three nodes")

        cluster.stack("stop", "kafka-3")
        write_events(relay_engine, topic, list(range(100)))
        wait_for(lambda: published_count(relay_engine) == 200, timeout=60, what="published on two nodes")

        cluster.stack("stop", "kafka-2")
        write_events(relay_engine, topic, list(range(100)))
        refused_since, cpu_before = time.monotonic(), cpu_seconds(relay.process.pid)
        wait_for(lambda: failed_attempts(relay_engine)[0] >= 3, timeout=60, interval=0.2,
                 what="three refused attempts of a row")
        refused_for = time.monotonic() - refused_since
        relay_cpu = cpu_seconds(relay.process.pid) - cpu_before
        attempts, last_error = failed_attempts(relay_engine)
        assert published_count(relay_engine) == 200, "nothing is marked published while one replica holds it"
        # the broker answers NOT_ENOUGH_REPLICAS, which kafka-python's idempotent producer retries until
        # the batch expires: the error names the refusal, the relay's own delivery timeout, or the
        # producer's expiry of the batch, depending on which of the three comes first under load
        refusals = ("NotEnoughReplicas", "no acknowledgement", "Expiring")
        assert any(refusal in last_error for refusal in refusals), last_error
        assert relay_cpu < 0.25 * refused_for, f"relay used {relay_cpu:.1f}s CPU in {refused_for:.1f}s: a busy loop"
        assert attempts <= refused_for / 0.5 + 1, "each attempt waits for its backoff"

        cluster.stack("start", "kafka-2")  # kafka-3 stays down: two replicas are enough
        wait_for(lambda: published_count(relay_engine) == 300, timeout=60, what="the backlog published")
    finally:  # the nodes are left as they are: the next cluster test starts what is missing
        exit_code = relay.stop()
    assert exit_code == 0, "the relay rode through every refusal and stopped cleanly"

    records = consume_every_event(cluster.brokers, topic, relay_engine)
    counts = assert_complete_and_in_key_order(records, relay_engine)
    print(f"refused for {refused_for:.1f}s, {attempts} attempts ({last_error}), relay CPU {relay_cpu:.2f}s, {counts}")
