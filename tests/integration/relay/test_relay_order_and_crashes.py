"""Per-key order with several relays, and no loss through SIGKILL. Volumes are settable for a full run:
RELAY_TEST_EVENTS (default 20000), RELAY_TEST_KILLS (default 5)."""
import os
import random
import time

import pytest

from harness.waiting import wait_for
from tests.integration.relay.outbox_rows import assert_complete_and_in_key_order, consume_every_event, pending_count, published_count
from tests.integration.relay.test_relay_process import start_relay
from tests.integration.relay.writers import Writers

EVENTS = int(os.environ.get("RELAY_TEST_EVENTS", "20000"))
KILLS = int(os.environ.get("RELAY_TEST_KILLS", "5"))
BATCH_SIZE = 200

pytestmark = pytest.mark.slow


def test_three_relays_deliver_every_event_in_key_order_while_eight_writers_write_concurrently(
    relay_env, relay_engine, relay_topic, test_env
):
    relays = [start_relay(relay_env) for _ in range(3)]
    try:
        writers = Writers(relay_engine, relay_topic, events=EVENTS, keys=200, writers=8).start()
        writers.join()
        wait_for(lambda: pending_count(relay_engine) == 0, timeout=300, interval=0.2, what="backlog drained")
    finally:
        codes = [relay.stop() for relay in relays]
    assert codes == [0, 0, 0]

    records = consume_every_event(test_env.kafka_brokers, relay_topic, relay_engine)
    counts = assert_complete_and_in_key_order(records, relay_engine)
    print(f"3 relays, 8 writers, {EVENTS} events over 200 keys: {counts}")
    assert counts["duplicates"] == 0


def test_a_relay_killed_mid_batch_again_and_again_loses_nothing_and_duplicates_at_most_one_batch_per_kill(
    relay_env, relay_engine, relay_topic, test_env
):
    events = EVENTS // 2
    writers = Writers(relay_engine, relay_topic, events=events, keys=1000, writers=4).start()
    rng = random.Random()
    for kill in range(KILLS):
        relay = start_relay(relay_env, RELAY_BATCH_SIZE=BATCH_SIZE)
        target = published_count(relay_engine) + rng.randint(1, 4 * BATCH_SIZE)
        wait_for(lambda: published_count(relay_engine) >= target, timeout=120, interval=0.005, what="progress")
        time.sleep(rng.uniform(0, 0.05))  # a random moment inside the next batch, not a synchronisation
        relay.kill()
    writers.join()
    relay = start_relay(relay_env, RELAY_BATCH_SIZE=BATCH_SIZE)
    try:
        wait_for(lambda: pending_count(relay_engine) == 0, timeout=300, interval=0.2, what="backlog drained")
    finally:
        assert relay.stop() == 0

    records = consume_every_event(test_env.kafka_brokers, relay_topic, relay_engine)
    counts = assert_complete_and_in_key_order(records, relay_engine)
    print(f"{KILLS} SIGKILLs over {events} events, batch {BATCH_SIZE}: {counts}")
    assert counts["duplicates"] <= KILLS * BATCH_SIZE
