"""Prometheus metrics of the relay, served over HTTP; a 200 on /metrics is the relay's health check."""
import collections
from typing import Iterable

from prometheus_client import Counter, Gauge, Histogram, start_http_server
from sqlalchemy import Connection

from outbox_relay.claim import ClaimedRow
from outbox_relay.status import topic_statuses, totals

PENDING_ROWS = Gauge("outbox_relay_pending_rows", "Outbox rows not yet published")
OLDEST_PENDING_AGE = Gauge(
    "outbox_relay_oldest_pending_age_seconds", "Age of the oldest unpublished outbox row (0 if none)"
)
PUBLISHED = Counter("outbox_relay_published", "Records acknowledged by the broker and marked published", ["topic"])
PUBLISH_ERRORS = Counter("outbox_relay_publish_errors", "Records the broker refused or did not acknowledge", ["topic"])
BATCH_SIZE = Histogram(
    "outbox_relay_batch_size", "Rows claimed per batch", buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
)
PUBLISH_DURATION = Histogram(
    "outbox_relay_publish_duration_seconds",
    "From the first send of a batch to the broker's last answer",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
COMMIT_TO_ACK = Histogram(
    "outbox_relay_commit_to_ack_seconds",
    "Per batch: from its oldest row's created_at (that transaction's start) to the broker's acknowledgement",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)

DRAINS = Counter(
    "outbox_relay_drains",
    "Drains run (each woken by a NOTIFY, the fallback poll or the end of a backoff), by whether they found rows",
    ["found"],
)
LOOKING = Gauge(
    "outbox_relay_looking",
    "1 while rows flow and the relay looks for them every RELAY_MIN_DRAIN_INTERVAL_MS without listening; "
    "0 while it waits for a NOTIFY or the poll",
)


def serve(host: str, port: int) -> None:
    start_http_server(port, addr=host)


def refresh_backlog(conn: Connection) -> None:
    """The gauges from the same per-topic query `outbox-relay status` prints."""
    pending, oldest_age = totals(topic_statuses(conn))
    PENDING_ROWS.set(pending)
    OLDEST_PENDING_AGE.set(oldest_age)


def record_drain(claimed: int) -> None:
    DRAINS.labels("rows" if claimed else "nothing").inc()


def record_batch(claimed: int, duration: float, acked: list[ClaimedRow], failed: Iterable[ClaimedRow], acked_at: float) -> None:
    BATCH_SIZE.observe(claimed)
    PUBLISH_DURATION.observe(duration)
    for topic, count in collections.Counter(row.topic for row in acked).items():
        PUBLISHED.labels(topic).inc(count)
    for topic, count in collections.Counter(row.topic for row in failed).items():
        PUBLISH_ERRORS.labels(topic).inc(count)
    if acked:
        # once per batch, not per row: observing 100k rows costs more than the rest of the metrics
        COMMIT_TO_ACK.observe(acked_at - min(row.created_epoch for row in acked))
