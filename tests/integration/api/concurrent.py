"""Fire requests at the same moment from many threads, and report what came back."""
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import requests


@dataclass
class Outcome:
    status: int
    body: dict
    seconds: float

    @property
    def code(self) -> str:
        return self.body.get("error", {}).get("code", str(self.status)) if self.status >= 400 else str(self.status)


def at_once(calls: list[Callable[[], requests.Response]]) -> list[Outcome]:
    """Run every call in its own thread, all released by one barrier; outcomes in call order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        started = time.perf_counter()
        response = call()
        return Outcome(response.status_code, response.json(), time.perf_counter() - started)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def tally(outcomes: list[Outcome]) -> Counter:
    return Counter(outcome.code for outcome in outcomes)


def report(name: str, outcomes: list[Outcome], **figures) -> None:
    slowest = max(outcome.seconds for outcome in outcomes)
    print(f"\n[concurrency] {name}: {dict(tally(outcomes))} slowest={slowest * 1000:.0f}ms {figures}")
