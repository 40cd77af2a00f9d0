"""Why the worker consumes nothing right now: the one holder of every reason to pause.

A part that finds a reason holds it (the flood guard trips, the sink goes down) and releases it once
the reason is gone. While any reason is held the loop pauses every partition it owns and keeps polling,
so the worker stays in its group and nothing past the held records is consumed or committed; `/readyz`
answers 503 with the reasons, and each reason's gauge is 1.
"""
import threading
from typing import Callable

from prometheus_client import Gauge

FLOOD_GUARD = "flood guard tripped"
SINK_DOWN = "sink down"


class Pauses:
    def __init__(self, gauges: dict[str, Gauge], not_ready: Callable[[str], None] = lambda reasons: None):
        self._gauges = gauges
        self._not_ready = not_ready  # told at once; readiness comes back with the loop's next report
        self._reasons: dict[str, str] = {}
        self._lock = threading.Lock()  # held by the loop's thread and by the writer's
        for gauge in gauges.values():
            gauge.set(0)

    def hold(self, reason: str, detail: str) -> None:
        with self._lock:
            self._reasons[reason] = detail
        self._set_gauge(reason, 1)
        self._not_ready(self.describe())

    def release(self, reason: str) -> None:
        with self._lock:
            self._reasons.pop(reason, None)
        self._set_gauge(reason, 0)

    @property
    def held(self) -> bool:
        return bool(self._reasons)

    def describe(self) -> str:
        with self._lock:
            return "; ".join(f"{reason}: {detail}" for reason, detail in self._reasons.items())

    def _set_gauge(self, reason: str, value: int) -> None:
        if reason in self._gauges:
            self._gauges[reason].set(value)
