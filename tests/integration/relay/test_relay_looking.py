"""While rows flow the relay looks on its own clock (no LISTEN) and commits an acknowledged batch
with its next claim; once they stop it commits and listens again. Nothing is left uncommitted:
not by a look, not by a stop, not by a connection given back to the pool."""
import socket
import threading

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from harness.waiting import wait_for
from outbox_relay.bootstrap import build_relay
from outbox_relay.claim import claim_batch
from outbox_relay.database import build_engine
from tests.integration.relay.outbox_rows import pending_count, published_count, write_events
from tests.support.kafka import consume as read_topic


class RunningRelay:
    """A relay's loop in a thread; `stop` does what SIGTERM does: sets the flag and wakes the loop."""

    def __init__(self, settings):
        self.wake, signal_socket = socket.socketpair()
        signal_socket.setblocking(False)
        self.relay = build_relay(settings, signal_socket=signal_socket)
        self.loop = threading.Thread(target=self.relay.run, daemon=True)
        self.loop.start()

    def stop(self) -> bool:
        """True once the loop has returned."""
        self.relay.stop.request()
        self.wake.send(b"x")
        self.loop.join(timeout=10)
        return not self.loop.is_alive()


@pytest.fixture
def start_relay(relay_settings):
    started = []

    def start(**settings) -> RunningRelay:
        started.append(RunningRelay(relay_settings.model_copy(update=settings)))
        return started[-1]

    yield start
    for running in started:
        running.stop()


def sessions(engine, where: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(
            f"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND {where}"
        )).scalar_one()


def test_while_rows_flow_the_relay_does_not_listen_and_once_they_stop_it_commits_and_listens_again(
    start_relay, relay_engine, relay_topic
):
    start_relay(min_drain_interval_ms=10, listen_after_quiet_ms=1500)
    wait_for(lambda: sessions(relay_engine, "query = 'LISTEN outbox_pending'") == 1, timeout=10, what="the relay listening")

    write_events(relay_engine, relay_topic, [1])
    wait_for(lambda: sessions(relay_engine, "query = 'UNLISTEN outbox_pending'") == 1, timeout=10,
             what="the relay no longer listening once rows flow")
    assert REGISTRY.get_sample_value("outbox_relay_looking") == 1
    for key in range(2, 6):
        write_events(relay_engine, relay_topic, [key])

    wait_for(lambda: published_count(relay_engine) == 5, timeout=10, what="five rows published while looking")
    wait_for(lambda: sessions(relay_engine, "query = 'LISTEN outbox_pending'") == 1, timeout=10,
             what="the relay listening again after a quiet spell")
    assert sessions(relay_engine, "state LIKE 'idle in transaction%'") == 0, "a transaction left open while listening"
    assert REGISTRY.get_sample_value("outbox_relay_looking") == 0


def test_an_acknowledged_batch_is_committed_by_the_next_look_not_left_for_the_quiet_spell(
    start_relay, relay_engine, relay_topic
):
    start_relay(min_drain_interval_ms=10, listen_after_quiet_ms=60_000)
    write_events(relay_engine, relay_topic, [1, 2, 3])

    wait_for(lambda: published_count(relay_engine) == 3, timeout=5, what="the batch's marks committed by the next look")
    assert sessions(relay_engine, "query = 'UNLISTEN outbox_pending'") == 1, "the relay is still looking"


def test_a_relay_stopped_while_it_carries_an_acknowledged_batch_commits_it(start_relay, relay_engine, relay_topic, test_env):
    running = start_relay(min_drain_interval_ms=60_000, listen_after_quiet_ms=120_000)
    write_events(relay_engine, relay_topic, [1, 2])
    read_topic(test_env.kafka_brokers, relay_topic, expected=2)
    assert pending_count(relay_engine) == 2, "acknowledged, its commit waiting for the next look a minute away"

    assert running.stop(), "the loop returned"
    assert pending_count(relay_engine) == 0
    assert len(read_topic(test_env.kafka_brokers, relay_topic, expected=2)) == 2, "nothing sent twice"


def test_a_connection_given_back_with_the_relays_transaction_open_is_rolled_back(relay_settings, relay_engine, relay_topic):
    write_events(relay_engine, relay_topic, [1, 2])
    engine = build_engine(relay_settings)
    try:
        with engine.connect() as conn:
            assert len(claim_batch(conn, 10)) == 2
        assert sessions(relay_engine, "state LIKE 'idle in transaction%'") == 0
        assert pending_count(relay_engine) == 2, "the uncommitted marks were rolled back"
        with engine.connect() as conn:
            assert len(claim_batch(conn, 10)) == 2, "the pooled connection claims again"
    finally:
        engine.dispose()


def test_a_listening_session_lost_while_the_relay_was_looking_is_replaced_when_it_listens_again(
    start_relay, relay_engine, relay_topic
):
    start_relay(min_drain_interval_ms=10, listen_after_quiet_ms=300, poll_interval_seconds=60)
    write_events(relay_engine, relay_topic, [1])
    wait_for(lambda: sessions(relay_engine, "query = 'UNLISTEN outbox_pending'") == 1, timeout=10, what="the relay looking")
    with relay_engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND query = 'UNLISTEN outbox_pending'"))

    wait_for(lambda: sessions(relay_engine, "query = 'LISTEN outbox_pending'") == 1, timeout=10,
             what="the relay listening again on a new session")
    write_events(relay_engine, relay_topic, [2])
    wait_for(lambda: published_count(relay_engine) == 2, timeout=10, what="the next row published on a NOTIFY, not the 60 s poll")
