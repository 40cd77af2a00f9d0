"""A drain: batch after batch claimed, sent, answered and committed, until a claim comes back short.

- One sent batch is in flight at a time: it is committed (its marks made visible) before the next
  is sent, so a crash leaves at most RELAY_BATCH_SIZE rows acknowledged but unmarked (sent again:
  duplicates). Meanwhile a claim thread claims the next batch, so the sender rarely waits.
- The last batch of a drain may stay uncommitted (`keep_open`, while the relay looks on its own
  clock): the next drain's first claim commits it in the same round trip (`claim.py`). Its rows
  stay locked and look pending until then, and the next rows of their keys are claimed by the
  statement that commits them, so neither per-key order nor the one-batch bound moves.
"""
import concurrent.futures
import time
from dataclasses import dataclass

import structlog
from sqlalchemy import Connection, Engine

from outbox_relay import metrics
from outbox_relay.claim import ClaimedRow, claim_batch
from outbox_relay.config import Settings
from outbox_relay.database import commit
from outbox_relay.errors import BrokerUnavailable, database_errors
from outbox_relay.housekeeping import Housekeeping
from outbox_relay.mark import mark_unanswered
from outbox_relay.outage import Outage
from outbox_relay.publish import Publisher, Sending, describe
from outbox_relay.retry_schedule import schedule_next_attempt
from outbox_relay.stop import Stop
from outbox_relay.traces import record_publish_spans

log = structlog.get_logger(__name__)


@dataclass
class InFlight:
    """A claimed batch whose transaction (and row locks) stays open until its answers are marked
    and it commits; a claim that found nothing is an empty one."""

    conn: Connection
    rows: list[ClaimedRow]
    sending: Sending | None = None
    started: float = 0.0

    def release(self) -> None:
        """Give the connection back; whatever is not committed is rolled back on the way
        (`database.py`), so the rows stay pending."""
        self.conn.close()


class Drainer:
    """Runs drains for the relay loop (`runner.py`); it holds the claim thread and the carried batch."""

    def __init__(self, settings: Settings, engine: Engine, publisher: Publisher, housekeeping: Housekeeping,
                 outage: Outage, stop: Stop):
        self.settings = settings
        self.engine = engine
        self.publisher = publisher
        self.housekeeping = housekeeping
        self.outage = outage
        self.stop = stop
        # Claims the next batch (its own transaction) while this thread sends and completes the current one.
        self._claims = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-claim")
        # the last drain's last batch, acknowledged and marked, or an empty claim: its transaction is
        # still open, and the next claim commits it in its own round trip
        self._carry: InFlight | None = None

    def close(self) -> None:
        """No claim runs after this; what the last drain left open is committed."""
        self._claims.shutdown(wait=True)
        self.commit_carry()

    def commit_carry(self) -> None:
        carry, self._carry = self._carry, None
        if carry is None:
            return
        try:
            with database_errors():
                commit(carry.conn)
        finally:
            carry.release()

    def drain(self, keep_open: bool = False) -> int:
        """Publish batch after batch until a claim comes back short; returns how many rows were claimed.

        Batch n is sent, its answers awaited and its transaction committed before batch n+1 is sent.
        Meanwhile a claim thread (`_claims`) claims n+1, whose rows a crash merely unlocks, so the
        claim's round trips and its marks (see `claim.py`) overlap n's sending. Claiming n+1 while n
        awaits its acks keeps per-key order: n's rows are locked (skipped) and, for everyone else,
        unpublished (the next rows of their keys are not eligible) until n commits. A short batch is
        the drain's last: its records are flushed at once instead of lingering, since no later
        record will join them. With `keep_open` the last batch's transaction (acknowledged, or an
        empty claim's) is left open for the next drain's claim to commit; `close` or the relay's
        going quiet commits it otherwise. The first claim commits what the drain before left open.
        """
        claimed = 0
        carry, self._carry = self._carry, None
        next_claim = self._claims.submit(self._claim, 0, carry)
        try:
            with database_errors():
                while next_claim is not None:
                    batch, next_claim = next_claim.result(), None
                    if not batch.rows:
                        self._finish(batch, keep_open)
                        break
                    claimed += len(batch.rows)
                    full = len(batch.rows) == self.settings.batch_size
                    if full and not self.stop.requested:
                        next_claim = self._claims.submit(self._claim, batch.rows[-1].id, None)
                    self._send(batch, last=not full)
                    self._complete(batch, keep_open=keep_open and next_claim is None)
                    self.housekeeping.run_due()
        finally:
            if next_claim is not None and next_claim.exception() is None:
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

    def _claim(self, after_id: int, carry: "InFlight | None") -> "InFlight":
        """A batch claimed in its own transaction: on the carried batch's connection, committing
        that one in the same round trip, or on a connection of the pool."""
        conn = carry.conn if carry is not None else self.engine.connect()
        try:
            rows = claim_batch(conn, self.settings.batch_size, after_id, prepared=self.settings.prepare_claim,
                               commit_first=carry is not None)
        except BaseException:
            conn.close()
            raise
        return InFlight(conn, rows)

    def _finish(self, batch: "InFlight", keep_open: bool) -> None:
        """Commit the batch's transaction now, or leave it open for the next claim to commit."""
        if keep_open:
            self._carry = batch
            return
        try:
            commit(batch.conn)
        finally:
            batch.release()

    def _complete(self, batch: "InFlight", keep_open: bool = False) -> None:
        """Wait for the batch's answers, take the claim's mark back where there is no ack, and commit
        (or leave the commit to the next claim); raise if the broker seems down."""
        try:
            result = self.publisher.complete(batch.sending, abandon=self.stop.grace_over)
            duration = time.perf_counter() - batch.started
            # acked rows were marked by their claim: committing makes it visible
            # a second below the oldest row: created_epoch is a float (partition pruning, `mark.py`)
            created_after = min(row.created_epoch for row in batch.rows) - 1
            mark_unanswered(batch.conn, [row.id for row in result.released], created_after)
            schedule_next_attempt(
                batch.conn,
                [(row.id, describe(error)) for row, error in result.failed],
                self.settings.row_retry_initial_seconds,
                self.settings.row_retry_max_seconds,
                created_after,
            )
        except BaseException:
            batch.release()
            raise
        self._finish(batch, keep_open and not result.broker_down)
        metrics.record_batch(len(batch.rows), duration, result.acked, [row for row, _ in result.failed], result.acked_at)
        record_publish_spans(result.acked, batch.sending.sent, result.acked_at, duration)
        if result.broker_down:
            raise BrokerUnavailable(describe(result.failed[0][1]))
        for row, error in result.failed:
            log.warning("relay.record_failed", outbox_id=row.id, topic=row.topic, attempts=row.attempts + 1, error=describe(error))
        if result.acked:  # a batch released at shutdown says nothing about the broker
            self.outage.over()


