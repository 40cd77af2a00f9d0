"""The relay loop: claim a batch, publish it, mark it, and sleep until notified when caught up.

- One sent batch is in flight at a time: it is committed (its marks made visible) before the next
  is sent, so a crash leaves at most RELAY_BATCH_SIZE rows acknowledged but unmarked (sent again:
  duplicates). Meanwhile a claim thread claims the next batch, so the sender rarely waits.

- Under a steady stream, drains start at most every RELAY_MIN_DRAIN_INTERVAL_MS, so each carries
  many rows; the first row after a quiet spell still goes at once.
- A dependency that is down (broker, database) makes the relay back off as a whole, exponentially,
  logging once per backoff step; it neither crashes nor spins (`outage.py`).
- SIGTERM and SIGINT only set a flag (`stop.py`). The loop then finishes the current batch,
  waiting at most RELAY_SHUTDOWN_GRACE_SECONDS for the broker's answers before releasing the
  unanswered rows, closes the producer and returns.
"""
import concurrent.futures
import time

import structlog
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from outbox_relay import metrics
from outbox_relay.claim import ClaimedRow, claim_batch
from outbox_relay.config import Settings
from outbox_relay.errors import BrokerUnavailable, RelayUnavailable, database_errors
from outbox_relay.housekeeping import Housekeeping
from outbox_relay.mark import mark_unanswered
from outbox_relay.outage import Outage
from outbox_relay.pacing import DrainPacing
from outbox_relay.publish import Publisher, Sending, describe
from outbox_relay.retry_schedule import schedule_next_attempt
from outbox_relay.stop import Stop
from outbox_relay.traces import record_publish_spans
from outbox_relay.wakeup import Wakeup

log = structlog.get_logger(__name__)


@dataclass
class InFlight:
    """A claimed batch whose transaction (and row locks) stays open until its answers are marked."""

    conn: Connection
    rows: list[ClaimedRow]
    sending: Sending | None = None
    started: float = 0.0

    def release(self) -> None:
        """Roll back whatever is not committed and give the connection back: the rows stay pending."""
        self.conn.close()


class Relay:
    def __init__(self, settings: Settings, engine: Engine, publisher: Publisher, wakeup: Wakeup, stop: Stop):
        self.settings = settings
        self.engine = engine
        self.publisher = publisher
        self.wakeup = wakeup
        self.stop = stop
        self.outage = Outage(settings.outage_backoff_initial_seconds, settings.outage_backoff_max_seconds)
        # Claims the next batch (its own transaction) while this thread sends and completes the current one.
        self._claims = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-claim")
        self.housekeeping = Housekeeping(settings, engine)
        self.pacing = DrainPacing(settings.min_drain_interval_ms / 1000)

    def run(self) -> None:
        """Until a signal: drain, keep house, and wait for a NOTIFY or the poll; back off while
        a dependency is away. The loop looks at the stop flag once per turn, here; a drain under
        way looks at it only to claim no further batch."""
        log.info("relay.started", batch_size=self.settings.batch_size, wakeup=self.settings.wakeup)
        self.wakeup.wait(0)  # LISTEN before the first drain: no commit after it can go unnoticed
        try:
            while not self.stop.requested:
                self.pacing.started(time.monotonic())
                try:
                    self.drain()
                except RelayUnavailable as error:
                    self.wakeup.pause(self.outage.next_wait(error))
                    continue
                self.housekeeping.run_due()
                self.wakeup.wait(self.settings.poll_interval_seconds)
                self._space_out()
        finally:
            self.close()
            log.info("relay.stopped")

    def close(self) -> None:
        self._claims.shutdown(wait=True)
        self.publisher.close(timeout=2.0)
        self.wakeup.close()
        self.engine.dispose()

    def _space_out(self) -> None:
        """Under a steady stream, drains start at most once per RELAY_MIN_DRAIN_INTERVAL_MS (`pacing.py`)."""
        remaining = self.pacing.wait_before_next(time.monotonic())
        if remaining > 0:
            self.wakeup.pause(remaining)

    def drain(self) -> int:
        """Publish batch after batch until a claim comes back short; returns how many rows were claimed.

        Batch n is sent, its answers awaited and its transaction committed before batch n+1 is sent.
        Meanwhile a claim thread (`_claims`) claims n+1, whose rows a crash merely unlocks, so the
        claim's round trips and its marks (see `claim.py`) overlap n's sending. Claiming n+1 while n
        awaits its acks keeps per-key order: n's rows are locked (skipped) and, for everyone else,
        unpublished (the next rows of their keys are not eligible) until n commits. A short batch is
        the drain's last: its records are flushed at once instead of lingering, since no later
        record will join them.
        """
        claimed = 0
        next_claim = self._claims.submit(self._claim, 0)
        try:
            with database_errors():
                while next_claim is not None:
                    batch, next_claim = next_claim.result(), None
                    if batch is None:
                        break
                    claimed += len(batch.rows)
                    full = len(batch.rows) == self.settings.batch_size
                    if full and not self.stop.requested:
                        next_claim = self._claims.submit(self._claim, batch.rows[-1].id)
                    self._send(batch, last=not full)
                    self._complete(batch)
                    self.housekeeping.run_due()
        finally:
            if next_claim is not None and next_claim.exception() is None and next_claim.result():
                next_claim.result().release()
        self.outage.over()
        metrics.record_drain(claimed)
        return claimed

    def _send(self, batch: "InFlight", last: bool = True) -> None:
        try:
            batch.sending = self.publisher.send(batch.rows, flush=last)
            batch.started = time.perf_counter()
        except BaseException:
            batch.release()
            raise

    def _claim(self, after_id: int = 0) -> "InFlight | None":
        conn = self.engine.connect()
        try:
            transaction = conn.begin()
            rows = claim_batch(conn, self.settings.batch_size, after_id, prepared=self.settings.prepare_claim)
        except BaseException:
            conn.close()
            raise
        if not rows:
            transaction.commit()
            conn.close()
            return None
        return InFlight(conn, rows)

    def _complete(self, batch: "InFlight") -> None:
        """Wait for the batch's answers, take the claim's mark back where there is no ack, and commit;
        raise if the broker seems down."""
        try:
            result = self.publisher.complete(batch.sending, abandon=self.stop.grace_over)
            duration = time.perf_counter() - batch.started
            # acked rows were marked by their claim: committing makes it visible
            mark_unanswered(batch.conn, [row.id for row in result.released])
            schedule_next_attempt(
                batch.conn,
                [(row.id, describe(error)) for row, error in result.failed],
                self.settings.row_retry_initial_seconds,
                self.settings.row_retry_max_seconds,
            )
            batch.conn.commit()
        finally:
            batch.release()
        metrics.record_batch(len(batch.rows), duration, result.acked, [row for row, _ in result.failed], result.acked_at)
        record_publish_spans(result.acked, batch.sending.sent, result.acked_at, duration)
        if result.broker_down:
            raise BrokerUnavailable(describe(result.failed[0][1]))
        for row, error in result.failed:
            log.warning("relay.record_failed", outbox_id=row.id, topic=row.topic, attempts=row.attempts + 1, error=describe(error))
        if result.acked:  # a batch released at shutdown says nothing about the broker
            self.outage.over()
