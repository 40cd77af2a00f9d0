"""The relay loop: claim a batch, publish it, mark it, and sleep until notified when caught up.

- A dependency that is down (broker, database) makes the relay back off as a whole, exponentially,
  logging once per backoff step; it neither crashes nor spins.
- SIGTERM and SIGINT only set a flag (and wake the loop through the signal wakeup fd). The loop
  then finishes the current batch, waiting at most RELAY_SHUTDOWN_GRACE_SECONDS for the broker's
  answers before releasing the unanswered rows, closes the producer and returns.
"""
import signal
import socket
import time

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential_jitter

from outbox_relay import metrics
from outbox_relay.claim import claim_batch
from outbox_relay.config import Settings
from outbox_relay.errors import BrokerUnavailable, DatabaseUnavailable, RelayUnavailable
from outbox_relay.mark import mark_failed, mark_published
from outbox_relay.publish import Publisher, describe
from outbox_relay.retention import delete_published
from outbox_relay.wakeup import Wakeup

log = structlog.get_logger(__name__)


class Stop:
    """Set by a signal; `grace_over` tells a waiting publish to give up on unanswered records."""

    def __init__(self, grace_seconds: float):
        self.grace_seconds = grace_seconds
        self.requested_at: float | None = None

    def request(self, *_args) -> None:
        if self.requested_at is None:
            self.requested_at = time.monotonic()

    @property
    def requested(self) -> bool:
        return self.requested_at is not None

    def grace_over(self) -> bool:
        return self.requested and time.monotonic() - self.requested_at >= self.grace_seconds


def install_signal_handlers(stop: Stop) -> tuple[socket.socket, socket.socket]:
    """Returns (reader, writer): the reader becomes readable when a signal arrives; keep both open."""
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    signal.signal(signal.SIGTERM, stop.request)
    signal.signal(signal.SIGINT, stop.request)
    return reader, writer


class Relay:
    def __init__(self, settings: Settings, engine: Engine, publisher: Publisher, wakeup: Wakeup, stop: Stop):
        self.settings = settings
        self.engine = engine
        self.publisher = publisher
        self.wakeup = wakeup
        self.stop = stop
        self._unavailable_since: float | None = None
        self._next_stats = 0.0
        self._next_retention = 0.0
        self._retrying = Retrying(
            retry=retry_if_exception_type(RelayUnavailable),
            wait=wait_exponential_jitter(
                initial=settings.backoff_initial_seconds,
                max=settings.backoff_max_seconds,
                jitter=settings.backoff_initial_seconds,
            ),
            stop=lambda _state: self.stop.requested,
            sleep=self.wakeup.pause,
            before_sleep=self._log_unavailable,
            reraise=True,
        )

    def run(self) -> None:
        log.info("relay.started", batch_size=self.settings.batch_size)
        try:
            while not self.stop.requested:
                try:
                    claimed = self._retrying(self._publish_batch_unless_stopping)
                except RelayUnavailable:
                    break
                self._housekeeping()
                if claimed < self.settings.batch_size and not self.stop.requested:
                    self.wakeup.wait(self.settings.poll_interval_seconds)
        finally:
            self.publisher.close(timeout=2.0)
            self.wakeup.close()
            log.info("relay.stopped")

    def _publish_batch_unless_stopping(self) -> int:
        return 0 if self.stop.requested else self.publish_batch()

    def publish_batch(self) -> int:
        """Claim, publish and mark one batch in one transaction; returns how many rows were claimed."""
        try:
            with self.engine.connect() as conn, conn.begin():
                rows = claim_batch(conn, self.settings.batch_size)
                if not rows:
                    self._recovered()
                    return 0
                started = time.perf_counter()
                result = self.publisher.publish(rows, abandon=self.stop.grace_over)
                duration = time.perf_counter() - started
                mark_published(conn, [row.id for row in result.acked])
                mark_failed(
                    conn,
                    [(row.id, describe(error)) for row, error in result.failed],
                    self.settings.backoff_initial_seconds,
                    self.settings.backoff_max_seconds,
                )
        except (OperationalError, InterfaceError) as error:
            raise DatabaseUnavailable(str(error.orig or error).strip()) from error
        metrics.record_batch(len(rows), duration, result.acked, [row for row, _ in result.failed], result.acked_at)
        if result.broker_down:
            raise BrokerUnavailable(describe(result.failed[0][1]))
        for row, error in result.failed:
            log.warning("relay.record_failed", outbox_id=row.id, topic=row.topic, attempts=row.attempts + 1, error=describe(error))
        self._recovered()
        return len(rows)

    def _log_unavailable(self, state: RetryCallState) -> None:
        if self._unavailable_since is None:
            self._unavailable_since = time.monotonic()
        log.warning(
            "relay.unavailable",
            error=str(state.outcome.exception()),
            error_class=type(state.outcome.exception()).__name__,
            attempt=state.attempt_number,
            retry_in_seconds=round(state.upcoming_sleep, 2),
        )

    def _recovered(self) -> None:
        if self._unavailable_since is not None:
            log.info("relay.recovered", unavailable_seconds=round(time.monotonic() - self._unavailable_since, 1))
            self._unavailable_since = None

    def _housekeeping(self) -> None:
        now = time.monotonic()
        try:
            if now >= self._next_stats:
                self._next_stats = now + self.settings.stats_interval_seconds
                with self.engine.connect() as conn:
                    metrics.refresh_backlog(conn)
            if now >= self._next_retention:
                self._next_retention = now + self.settings.retention_interval_seconds
                deleted = delete_published(
                    self.engine, self.settings.retention_hours, self.settings.retention_batch_size
                )
                if deleted:
                    log.info("relay.retention", deleted=deleted)
        except (OperationalError, InterfaceError) as error:
            log.warning("relay.housekeeping_failed", error=str(error.orig or error).strip())
