"""The relay's sessions lost under it (a PostgreSQL failover, an idle-session killer, an operator):
it reconnects, prepares its claim again on the new sessions, and publishes what follows."""
import pytest
from sqlalchemy import text

from harness.services import ServiceProcess
from harness.waiting import wait_for
from tests.integration.relay.conftest import relay_process_env
from tests.integration.relay.outbox_rows import pending_count, published_count, write_events
from tests.support.kafka import consume as read_topic


def terminate_other_sessions(engine) -> int:
    with engine.connect() as conn:
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )).scalar_one()
    engine.dispose()  # the test's own pooled sessions were among them
    return killed


@pytest.mark.parametrize("prepared", ["true", "false"], ids=["prepared claim", "claim planned per drain"])
def test_sessions_killed_under_the_relay_cost_a_retry_not_an_event(prepared, relay_env, relay_engine, relay_topic, test_env):
    env, health_url = relay_process_env(relay_env, RELAY_POLL_INTERVAL_SECONDS=0.5, RELAY_PREPARE_CLAIM=prepared)
    relay = ServiceProcess("outbox-relay", env=env, health_url=health_url).start()
    try:
        write_events(relay_engine, relay_topic, list(range(20)))
        wait_for(lambda: published_count(relay_engine) == 20, timeout=30, what="the first 20 published")

        assert terminate_other_sessions(relay_engine) >= 2, "the relay's LISTEN and claim sessions were killed"
        write_events(relay_engine, relay_topic, list(range(20, 40)))
        wait_for(lambda: published_count(relay_engine) == 40, timeout=30, what="the next 20 published on new sessions")
        assert relay.process.poll() is None, "the relay rode through the lost sessions"
    finally:
        exit_code = relay.stop()
    assert exit_code == 0
    assert pending_count(relay_engine) == 0
    keys = sorted(int(record.key) for record in read_topic(test_env.kafka_brokers, relay_topic, expected=40))
    assert set(keys) == set(range(40)), "every event reached Kafka"
