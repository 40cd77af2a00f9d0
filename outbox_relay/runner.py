"""The relay loop: drain (`drain.py`); look again while rows flow, and sleep until notified once they stop.

- Under a steady stream, drains start at most every RELAY_MIN_DRAIN_INTERVAL_MS, so each carries
  many rows; the first row after a quiet spell still goes at once.
- While rows flow the relay looks for them once per interval instead of listening (`pacing.Looking`),
  and the acknowledged last batch of a drain stays uncommitted until the next look, whose claim
  commits it in the same round trip: one round trip per interval, not one per payment's NOTIFY plus
  three per drain. When the looks go quiet it commits and listens.
- Retention runs between drains, once the carried batch is committed: on the partitioned outbox it
  drops partitions, whose lock would otherwise wait for the relay's own open claim (`housekeeping.py`).
- A dependency that is down (broker, database) makes the relay back off as a whole, exponentially,
  logging once per backoff step; it neither crashes nor spins (`outage.py`).
- SIGTERM and SIGINT only set a flag (`stop.py`). The loop then finishes the current batch,
  waiting at most RELAY_SHUTDOWN_GRACE_SECONDS for the broker's answers before releasing the
  unanswered rows, commits, closes the producer and returns.
"""
import time

import structlog
from sqlalchemy import Engine

from outbox_relay import metrics
from outbox_relay.config import Settings
from outbox_relay.drain import Drainer
from outbox_relay.errors import RelayUnavailable
from outbox_relay.housekeeping import Housekeeping
from outbox_relay.outage import Outage
from outbox_relay.pacing import DrainPacing, Looking
from outbox_relay.publish import Publisher
from outbox_relay.stop import Stop
from outbox_relay.wakeup import Wakeup

log = structlog.get_logger(__name__)


class Relay:
    def __init__(self, settings: Settings, engine: Engine, publisher: Publisher, wakeup: Wakeup, stop: Stop):
        self.settings = settings
        self.engine = engine
        self.publisher = publisher
        self.wakeup = wakeup
        self.stop = stop
        self.outage = Outage(settings.outage_backoff_initial_seconds, settings.outage_backoff_max_seconds)
        self.housekeeping = Housekeeping(settings, engine)
        self.drainer = Drainer(settings, engine, publisher, self.housekeeping, self.outage, stop)
        self.pacing = DrainPacing(settings.min_drain_interval_ms / 1000)
        self.looking = Looking(look_interval(settings), settings.listen_after_quiet_ms / 1000)

    def run(self) -> None:
        """Until a signal: drain, keep house, and look again after an interval while rows flow, or
        wait for a NOTIFY or the poll once they stop; back off while a dependency is away. The
        loop looks at the stop flag once per turn, here; a drain under way looks at it only to
        claim no further batch."""
        log.info("relay.started", batch_size=self.settings.batch_size, wakeup=self.settings.wakeup)
        self.wakeup.wait(0)  # LISTEN before the first drain: no commit after it can go unnoticed
        self.housekeeping.run_retention()  # at start, with nothing of the relay's open
        try:
            while not self.stop.requested:
                started = time.monotonic()
                self.pacing.started(started)
                try:
                    self.looking.looked(started, self.drainer.drain(keep_open=self.looking.enabled))
                    retention = self.housekeeping.retention_due()
                    if retention or not self.looking.active():
                        self.drainer.commit_carry()  # a partition drop would wait for the carried claim's locks
                except RelayUnavailable as error:
                    self.wakeup.pause(self.outage.next_wait(error))
                    continue
                if retention:
                    self.housekeeping.run_retention()
                self.housekeeping.run_due()
                self._wait_for_rows()
        finally:
            self.close()
            log.info("relay.stopped")

    def drain(self) -> int:
        """One drain, everything committed when it returns; how many rows it claimed."""
        return self.drainer.drain()

    def close(self) -> None:
        try:
            self.drainer.close()
        except RelayUnavailable as error:
            log.warning("relay.final_commit_failed", error=str(error))
        self.publisher.close(timeout=2.0)
        self.wakeup.close()
        self.engine.dispose()

    def _wait_for_rows(self) -> None:
        """While rows flow, look again one interval after this look began, without listening; once
        they stop, wait for a NOTIFY (or the poll) and then no sooner than pacing allows."""
        metrics.LOOKING.set(self.looking.active())
        if self.looking.active():
            self.wakeup.mute()
            self.wakeup.pause(self.looking.wait_before_next(time.monotonic()))
            return
        self.wakeup.wait(self.settings.poll_interval_seconds)
        remaining = self.pacing.wait_before_next(time.monotonic())  # `pacing.py`
        if remaining > 0:
            self.wakeup.pause(remaining)


def look_interval(settings: Settings) -> float:
    """How often the relay looks while rows flow: every RELAY_MIN_DRAIN_INTERVAL_MS, or with
    RELAY_WAKEUP=poll every poll interval if that is longer. 0 (notify, no pacing): never."""
    interval = settings.min_drain_interval_ms / 1000
    if settings.wakeup == "poll":
        return max(interval, settings.poll_interval_seconds)
    return interval
