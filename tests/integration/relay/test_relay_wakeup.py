"""RELAY_WAKEUP=poll: the relay publishes within its poll interval with the NOTIFY trigger disabled."""
import threading

import pytest
from sqlalchemy import text

from outbox_relay.bootstrap import build_relay
from tests.integration.relay.outbox_rows import rows, write_event
from harness.waiting import wait_for

POLL_S = 0.5
SLACK_S = 0.5  # a shared two-core machine: scheduling, the claim and the broker's acknowledgement


@pytest.fixture
def polling_relay(relay_settings, relay_engine):
    with relay_engine.begin() as conn:
        conn.execute(text("ALTER TABLE outbox DISABLE TRIGGER outbox_notify"))  # as the README tells operators
    relay = build_relay(relay_settings.model_copy(update={"wakeup": "poll", "poll_interval_seconds": POLL_S}))
    loop = threading.Thread(target=relay.run, daemon=True)
    loop.start()
    yield relay
    relay.stop.request()
    loop.join(timeout=10)
    assert not loop.is_alive()


def _published(engine, count: int):
    found = rows(engine)
    return found if len(found) == count and all(row.published_at for row in found) else None


def test_a_polling_relay_publishes_each_row_within_its_poll_interval_without_the_trigger(polling_relay, relay_engine, relay_topic):
    for n in range(3):
        with relay_engine.begin() as conn:
            write_event(conn, relay_topic, 100 + n)
        # the next write lands just after a drain: the longest wait of a poll cycle
        wait_for(lambda: _published(relay_engine, n + 1), timeout=10, what=f"row {n} published")
    for row in rows(relay_engine):
        assert (row.published_at - row.created_at).total_seconds() <= POLL_S + SLACK_S


def test_a_polling_relay_does_not_listen(polling_relay, relay_engine, relay_topic):
    with relay_engine.begin() as conn:
        write_event(conn, relay_topic, 1)
    wait_for(lambda: _published(relay_engine, 1), timeout=10, what="the row published")
    with relay_engine.connect() as conn:
        listening = conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
        )).scalar_one()
    assert listening == 0
