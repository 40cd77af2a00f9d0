"""Flood guard: when too large a share of recent records is poison (a bad deploy upstream), stop.

Dead-lettering is for the odd record that can never succeed. When more than `share` of the records
seen in the last `window_s` seconds (and at least `min_records` of them) fail, the guard trips and
stays tripped: the worker stops consuming, leaves those records uncommitted in Kafka and reports
itself not ready, so an operator fixes the producer instead of finding the topic in the DLQ.
"""
import time
from collections import deque
from typing import Callable


class FloodGuard:
    def __init__(
        self,
        share: float,
        window_s: float,
        min_records: int,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.share = share
        self.window_s = window_s
        self.min_records = min_records
        self.clock = clock
        self._buckets: deque[list] = deque()  # [second, seen, failed], oldest first
        self._seen = 0
        self._failed = 0
        self.tripped = False

    def admit(self, seen: int, failed: int) -> bool:
        """Count a batch; False (and tripped from now on) when its failures make the share too high."""
        if self.tripped:
            return False
        self._expire()
        self._add(seen, failed)
        if self._seen >= self.min_records and self._failed > self.share * self._seen:
            self.tripped = True
        return not self.tripped

    @property
    def failure_share(self) -> float:
        self._expire()
        return self._failed / self._seen if self._seen else 0.0

    def _add(self, seen: int, failed: int) -> None:
        second = int(self.clock())
        if not self._buckets or self._buckets[-1][0] != second:
            self._buckets.append([second, 0, 0])
        self._buckets[-1][1] += seen
        self._buckets[-1][2] += failed
        self._seen += seen
        self._failed += failed

    def _expire(self) -> None:
        oldest = self.clock() - self.window_s
        while self._buckets and self._buckets[0][0] < oldest:
            _, seen, failed = self._buckets.popleft()
            self._seen -= seen
            self._failed -= failed
