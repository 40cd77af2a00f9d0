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
