"""The whole relay's backoff while the broker or the database is away.

Each failed drain in a row waits longer: RELAY_OUTAGE_BACKOFF_INITIAL_SECONDS × 2^(n-1) plus up to
as much again of jitter, capped at RELAY_OUTAGE_BACKOFF_MAX_SECONDS (tenacity's strategy). One log
line per step and one when the outage is over, so a long outage neither floods the log nor spins.
"""
import time

import structlog
from tenacity import RetryCallState, wait_exponential_jitter

from outbox_relay.errors import RelayUnavailable

log = structlog.get_logger(__name__)


class Outage:
    def __init__(self, initial_seconds: float, max_seconds: float):
        self._wait = wait_exponential_jitter(multiplier=initial_seconds, max=max_seconds, jitter=initial_seconds)
        self._state: RetryCallState | None = None  # the failed drains of the outage going on, if any

    def next_wait(self, error: RelayUnavailable) -> float:
        """Count one more failed drain and return how long to wait before the next."""
        if self._state is None:
            self._state = RetryCallState(None, fn=None, args=(), kwargs={})
        else:
            self._state.prepare_for_next_attempt()
        seconds = self._wait(self._state)
        log.warning(
            "relay.unavailable",
            error=str(error),
            error_class=type(error).__name__,
            attempt=self._state.attempt_number,
            retry_in_seconds=round(seconds, 2),
        )
        return seconds

    def over(self) -> None:
        if self._state is not None:
            log.info("relay.recovered", unavailable_seconds=round(time.monotonic() - self._state.start_time, 1))
            self._state = None
