"""An open-loop load generator, free of coordinated omission.

Tick i is due at `start + i / rate`, whatever happened to earlier ticks. A pool of threads takes
the next due tick from a shared counter, waits for its time and runs the action; if every thread is
busy, the tick starts late and that wait counts in its latency, because latency is measured from the
scheduled time, not from the send. Bounded: at most `count` ticks, none scheduled after `duration_s`,
and with `give_up_s` none started later than that (ticks never started are reported as not sent).
"""
import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Outcome:
    """One tick: when it was due, when it really started and ended (seconds from the run's start)."""

    tick: int
    scheduled: float
    started: float
    ended: float
    status: int  # HTTP status of the measured request; 0 = no answer (refused, reset, timeout)
    code: str | None = None  # the API's error code, or the exception class when there was no answer
    detail: dict = field(default_factory=dict)

    @property
    def latency_ms(self) -> float:
        """From the scheduled time: includes any wait for a free client thread."""
        return (self.ended - self.scheduled) * 1000

    @property
    def service_ms(self) -> float:
        return (self.ended - self.started) * 1000


Action = Callable[[int, "Client"], tuple[int, str | None, dict]]


class Client:
    """A keep-alive HTTP/1.1 connection of one load thread (http.client: little CPU per request)."""

    def __init__(self, host: str, port: int, timeout_s: float):
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.connection: http.client.HTTPConnection | None = None

    def post(self, path: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        try:
            self.connection.request(
                "POST", path, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})}
            )
            response = self.connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, json.loads(raw) if raw else {}

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def error_code(status: int, body: dict) -> str | None:
    if 200 <= status < 300:
        return None
    return (body.get("error") or {}).get("code") or f"HTTP_{status}"


@dataclass
class OpenLoop:
    rate: float
    duration_s: float
    threads: int
    host: str = "127.0.0.1"
    port: int = 8000
    timeout_s: float = 15.0
    count: int | None = None
    give_up_s: float | None = None  # no tick starts later than this after the start (a saturated run stays bounded)

    def __post_init__(self) -> None:
        ticks = int(self.rate * self.duration_s)
        self.total = min(ticks, self.count) if self.count is not None else ticks
        self._next = 0
        self._lock = threading.Lock()
        self.outcomes: list[Outcome] = []

    def _take(self, start: float) -> int | None:
        with self._lock:
            if self._next >= self.total:
                return None
            if self.give_up_s is not None and time.perf_counter() - start > self.give_up_s:
                return None
            self._next += 1
            return self._next - 1

    def _worker(self, action: Action, start: float, stop: threading.Event) -> None:
        client = Client(self.host, self.port, self.timeout_s)
        mine = []
        while not stop.is_set() and (tick := self._take(start)) is not None:
            due = tick / self.rate
            delay = start + due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            began = time.perf_counter() - start
            try:
                status, code, detail = action(tick, client)
            except (OSError, http.client.HTTPException) as error:
                status, code, detail = 0, type(error).__name__, {}
            mine.append(Outcome(tick, due, began, time.perf_counter() - start, status, code, detail))
        client.close()
        with self._lock:
            self.outcomes.extend(mine)

    def run(self, action: Action, stop: threading.Event | None = None) -> list[Outcome]:
        """Run every tick (or until `stop` is set); outcomes sorted by tick."""
        stop = stop or threading.Event()
        start = time.perf_counter()
        workers = [threading.Thread(target=self._worker, args=(action, start, stop), daemon=True) for _ in range(self.threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return sorted(self.outcomes, key=lambda o: o.tick)
