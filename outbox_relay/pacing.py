"""How often drains start under a steady stream: at most once per RELAY_MIN_DRAIN_INTERVAL_MS on
average, so each drain carries many rows, and never later than that requires.

The rule is GCRA (the generic cell rate algorithm, a token bucket of two): a drain may start once
`theoretical_start - interval` has passed, and each start moves `theoretical_start` one interval on
from itself or from now, whichever is later. Rows arriving once per interval or slower therefore
never wait. Spacing each drain from the previous one's start instead lets one delayed drain delay
every later one by the same lag, for as long as rows keep arriving about once per interval (at
100 rows/s and 10 ms, half a drain interval on every row).
"""


class DrainPacing:
    def __init__(self, interval_seconds: float):
        self.interval = interval_seconds
        self._theoretical_start = float("-inf")

    def wait_before_next(self, now: float) -> float:
        """Seconds to wait before a drain may start at `now` (0: at once)."""
        return max(0.0, self._theoretical_start - self.interval - now)

    def started(self, now: float) -> None:
        self._theoretical_start = max(self._theoretical_start, now) + self.interval


class Looking:
    """While rows flow, the relay looks for the next ones once per `interval` on its own clock
    instead of being woken by every payment's NOTIFY; once its looks have found nothing for
    `quiet_after` seconds it waits to be woken again.

    Why: every NOTIFY wakes the listening PostgreSQL backend, and on a quiet server a wake costs
    about as much CPU as a small statement. Under a steady stream the relay drains once per
    interval anyway (`DrainPacing`), so looking on its clock costs one round trip per interval
    (`claim.py` carries BEGIN and the previous batch's COMMIT with the claim), not one per payment.
    An interval of 0 never looks: the relay then waits for a NOTIFY before every drain.
    """

    def __init__(self, interval_seconds: float, quiet_after_seconds: float):
        self.interval = interval_seconds
        self.quiet_after = quiet_after_seconds
        self._last_look = float("-inf")
        self._last_rows = float("-inf")

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    def looked(self, started: float, claimed: int) -> None:
        self._last_look = started
        if claimed:
            self._last_rows = started

    def active(self) -> bool:
        """Rows were found within `quiet_after` of the last look: look again after one interval."""
        return self.enabled and self._last_look - self._last_rows < self.quiet_after

    def wait_before_next(self, now: float) -> float:
        return max(0.0, self._last_look + self.interval - now)
