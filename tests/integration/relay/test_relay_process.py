import signal
import statistics
import subprocess
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update

from common.outbox import outbox
from harness.services import BIN, ServiceProcess
from harness.waiting import wait_for
from outbox_relay.retention import delete_published
from outbox_relay.retry_schedule import schedule_next_attempt
from tests.integration.relay.conftest import relay_process_env
from tests.integration.relay.outbox_rows import (
    pending_count,
    published_count,
    rows,
    write_backlog,
    write_event,
    write_events,
)
from tests.support.kafka import consume as read_topic
from tests.support.kafka import header


def start_relay(relay_env, **extra) -> ServiceProcess:
    env, health_url = relay_process_env(relay_env, **extra)
    return ServiceProcess("outbox-relay", env=env, health_url=health_url).start()


def published_at(engine, event_id):
    with engine.connect() as conn:
        return conn.execute(select(outbox.c.published_at).where(outbox.c.event_id == event_id)).scalar_one()


def test_an_idle_relay_publishes_a_commit_within_milliseconds_woken_by_notify(relay_env, relay_engine, relay_topic):
    relay = start_relay(relay_env, RELAY_POLL_INTERVAL_SECONDS=30)
    try:
        latencies = []
        for key in range(6):
            with relay_engine.begin() as conn:
                event_id = write_event(conn, relay_topic, key)
            committed_at = time.time()
            at = wait_for(lambda: published_at(relay_engine, event_id), timeout=10, interval=0.002, what="published")
            latencies.append(at.timestamp() - committed_at)
    finally:
        assert relay.stop() == 0
    latencies = sorted(latencies[1:])  # the first one also waits for the producer's bootstrap
    print(f"commit to published_at (after ack), idle relay, poll interval 30 s: {latencies}")
    assert statistics.median(latencies) < 0.1 and max(latencies) < 1.0


def batches_published(relay) -> float:
    for line in requests.get(relay.health_url, timeout=2).text.splitlines():
        if line.startswith("outbox_relay_batch_size_count"):
            return float(line.split()[-1])
    return 0.0


@pytest.mark.parametrize("interval_ms", [0, 250])
def test_under_a_steady_stream_drains_start_at_most_every_min_drain_interval(
    interval_ms, relay_env, relay_engine, relay_topic
):
    relay = start_relay(relay_env, RELAY_MIN_DRAIN_INTERVAL_MS=interval_ms)
    try:
        write_events(relay_engine, relay_topic, [0])  # the producer's bootstrap, before the stream
        wait_for(lambda: pending_count(relay_engine) == 0, timeout=30, what="the first row published")
        before, started = batches_published(relay), time.monotonic()
        for key in range(1, 101):  # a steady stream: one commit every 10 ms (pacing the writer)
            time.sleep(max(0.0, started + key * 0.01 - time.monotonic()))
            with relay_engine.begin() as conn:
                write_event(conn, relay_topic, key)
        streamed = time.monotonic() - started
        wait_for(lambda: pending_count(relay_engine) == 0, timeout=30, what="the stream published")
        batches = batches_published(relay) - before
    finally:
        assert relay.stop() == 0
    print(f"min drain interval {interval_ms} ms: 100 rows over {streamed:.2f} s in {batches:.0f} batches")
    if interval_ms:
        assert batches <= streamed / (interval_ms / 1000) + 2
    else:
        assert batches > 20, "without spacing, rows 10 ms apart go in small batches"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_backlog_exits_0_within_10_s_and_every_row_marked_published_is_in_kafka(
    sig, relay_env, relay_engine, relay_topic, test_env
):
    write_backlog(relay_engine, relay_topic, 20_000, keys=2_000)
    relay = start_relay(relay_env)
    wait_for(lambda: published_count(relay_engine) > 0, timeout=30, interval=0.01, what="the relay publishing")

    signalled = time.monotonic()
    code = relay.stop(sig, timeout=15)
    took = time.monotonic() - signalled

    assert code == 0 and took < 10, f"exit {code} after {took:.1f}s"
    published = {str(row.event_id) for row in rows(relay_engine) if row.published_at is not None}
    assert 0 < len(published) < 20_000, "stopped mid-backlog"
    records = read_topic(test_env.kafka_brokers, relay_topic, expected=len(published))
    assert published <= {header(record, "event_id") for record in records}


def test_metrics_expose_the_backlog_the_published_total_and_the_histograms(relay_env, relay_engine, relay_topic):
    relay = start_relay(relay_env, RELAY_STATS_INTERVAL_SECONDS=0.1)
    try:
        write_events(relay_engine, relay_topic, list(range(50)))
        wait_for(lambda: pending_count(relay_engine) == 0, timeout=30, what="all published")

        def scraped():
            text = requests.get(relay.health_url, timeout=2).text
            return text if f'outbox_relay_published_total{{topic="{relay_topic}"}} 50.0' in text else None

        text = wait_for(scraped, timeout=10, what="published total of 50")
        wait_for(lambda: "outbox_relay_pending_rows 0.0" in requests.get(relay.health_url, timeout=2).text, timeout=10)
    finally:
        assert relay.stop() == 0
    assert "outbox_relay_oldest_pending_age_seconds" in text
    assert "outbox_relay_commit_to_ack_seconds_count" in text
    assert "outbox_relay_batch_size_sum 50.0" in text
    assert "outbox_relay_publish_duration_seconds_count" in text
    assert "outbox_relay_publish_errors_total" in text or "outbox_relay_publish_errors" in text


def test_status_prints_the_pending_count_the_oldest_age_and_the_last_error_per_topic(
    relay_env, relay_database_url, relay_engine
):
    write_events(relay_engine, "topic-a", [1, 2])
    write_events(relay_engine, "topic-b", [3])
    first, _, third = rows(relay_engine)
    with relay_engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == third.id).values(published_at=outbox.c.created_at))
        conn.execute(update(outbox).values(created_at=outbox.c.created_at - timedelta(seconds=90)))
        schedule_next_attempt(conn, [(first.id, "KafkaTimeoutError: Batch expired")], 0.5, 30)

    output = subprocess.run(
        [str(BIN / "outbox-relay"), "status"], env={**relay_env, "PATH": ""}, capture_output=True, text=True, check=True
    ).stdout

    lines = output.splitlines()
    assert lines[0] == "pending: 2"
    assert lines[1].startswith("oldest pending age: 9")
    assert lines[2].startswith("topic topic-a: pending 2, oldest 9")
    assert lines[2].endswith("last error: KafkaTimeoutError: Batch expired")
    assert len(lines) == 3, "a topic without pending rows is not listed"


def test_retention_deletes_only_published_rows_older_than_the_retention_in_small_batches(relay_engine):
    write_events(relay_engine, "t", list(range(7)))
    ids = [row.id for row in rows(relay_engine)]
    old_published, recent_published, old_pending = ids[:5], ids[5:6], ids[6:]
    with relay_engine.begin() as conn:
        conn.execute(update(outbox).values(created_at=outbox.c.created_at - timedelta(hours=200)))
        conn.execute(
            update(outbox).where(outbox.c.id.in_(old_published)).values(published_at=outbox.c.created_at)
        )
        conn.execute(update(outbox).where(outbox.c.id.in_(recent_published)).values(published_at=outbox.c.created_at + timedelta(hours=199)))

    assert delete_published(relay_engine, retention_hours=168, batch_size=2) == 5

    assert [row.id for row in rows(relay_engine)] == recent_published + old_pending


def test_a_lost_notification_only_delays_a_row_until_the_fallback_poll(relay_env, relay_engine, relay_topic):
    with relay_engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE outbox DISABLE TRIGGER outbox_notify")
    relay = start_relay(relay_env, RELAY_POLL_INTERVAL_SECONDS=0.5)
    try:
        write_events(relay_engine, relay_topic, [1])  # committed before the relay's first claim, or not
        wait_for(lambda: pending_count(relay_engine) == 0, timeout=10, what="first row published")
        with relay_engine.begin() as conn:
            event_id = write_event(conn, relay_topic, 2)
        at = wait_for(lambda: published_at(relay_engine, event_id), timeout=10, interval=0.01, what="published by the poll")
    finally:
        assert relay.stop() == 0
    assert at is not None
