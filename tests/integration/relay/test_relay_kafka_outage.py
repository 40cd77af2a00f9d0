"""The broker stopped for real (stack/native.sh stop kafka) while payments keep committing outbox rows.

Stops the broker of the stack named by the environment (STACK_DIR and ports): run it against a
private stack when others share the default one. RELAY_TEST_OUTAGE_SECONDS sets the outage (30).
"""
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from harness.services import LOG_DIR
from harness.waiting import wait_for
from tests.integration.relay.outbox_rows import assert_complete_and_in_key_order, consume_every_event, pending_count, published_count, write_event
from tests.integration.relay.relay_logs import log_events
from tests.integration.relay.test_relay_process import start_relay

NATIVE = Path(__file__).resolve().parents[3] / "stack" / "native.sh"
OUTAGE_SECONDS = float(os.environ.get("RELAY_TEST_OUTAGE_SECONDS", "30"))

pytestmark = pytest.mark.slow


def native(command: str, name: str) -> None:
    subprocess.run([str(NATIVE), command, name], check=True, stdout=subprocess.DEVNULL)


class Payments(threading.Thread):
    """Commits one outbox row after another, as payments would, until stopped."""

    def __init__(self, engine, topic):
        super().__init__(daemon=True)
        self.engine, self.topic = engine, topic
        self.committed = 0
        self.errors: list[BaseException] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.01):
            try:
                with self.engine.begin() as conn:
                    write_event(conn, self.topic, self.committed % 300)
                self.committed += 1
            except BaseException as error:
                self.errors.append(error)

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def log_lines() -> int:
    path = LOG_DIR / f"outbox-relay-{os.getpid()}.log"
    return len(path.read_text(errors="replace").splitlines()) if path.exists() else 0


def outage_lines(relay) -> list[dict]:
    return [event for event in log_events(relay) if event.get("event") == "relay.unavailable"]


def test_a_kafka_outage_delays_but_loses_nothing_and_the_relay_neither_floods_logs_nor_crashes(
    relay_env, relay_engine, relay_topic, test_env
):
    defaults = {
        "RELAY_OUTAGE_BACKOFF_INITIAL_SECONDS": "0.5", "RELAY_OUTAGE_BACKOFF_MAX_SECONDS": "10",
        "RELAY_ROW_RETRY_INITIAL_SECONDS": "0.5", "RELAY_ROW_RETRY_MAX_SECONDS": "10",
    }
    relay = start_relay(relay_env, **defaults)
    leaving = start_relay(relay_env, **defaults)
    payments = Payments(relay_engine, relay_topic)
    payments.start()
    broker_down = False
    try:
        wait_for(lambda: published_count(relay_engine) >= 50, timeout=30, what="publishing before the outage")
        lines_before = log_lines()
        native("stop", "kafka")
        broker_down, stopped_at = True, time.monotonic()

        wait_for(lambda: outage_lines(leaving), timeout=30, what="the second relay noticing the outage")
        signalled = time.monotonic()
        assert leaving.stop(signal.SIGTERM, timeout=15) == 0
        shutdown_in_outage = time.monotonic() - signalled
        assert shutdown_in_outage < 10

        wait_for(lambda: time.monotonic() - stopped_at >= OUTAGE_SECONDS, timeout=OUTAGE_SECONDS + 5, interval=0.5)
        assert relay.process.poll() is None, "the relay must ride out the outage, not exit"
        lines_during_outage = log_lines() - lines_before
        native("start", "kafka")
        broker_down, restarted_at = False, time.monotonic()

        wait_for(lambda: pending_count(relay_engine) < 10, timeout=120, interval=0.1, what="backlog drained")
        drain_seconds = time.monotonic() - restarted_at
        payments.stop()
        wait_for(lambda: pending_count(relay_engine) == 0, timeout=30, interval=0.1, what="last rows published")
    finally:
        payments.stop()
        if broker_down:
            native("start", "kafka")
        assert relay.stop() == 0

    assert not payments.errors, "writing the outbox never depends on Kafka"
    outages = outage_lines(relay)
    records = consume_every_event(test_env.kafka_brokers, relay_topic, relay_engine)
    counts = assert_complete_and_in_key_order(records, relay_engine)
    print(
        f"outage {OUTAGE_SECONDS:.0f}s: {payments.committed} payments committed, outage log lines "
        f"{[(e['attempt'], e['retry_in_seconds']) for e in outages]}, all log lines during outage "
        f"{lines_during_outage}, drained {drain_seconds:.1f}s after restart, shutdown during outage "
        f"{shutdown_in_outage:.1f}s, {counts}"
    )
    assert 1 <= len(outages) <= 12, "one line per backoff step"
    assert lines_during_outage <= 3 * len(outages) + 10, "no log flood"
