import threading
import time

import pytest

from platform_worker.config import WorkerSettings
from platform_worker.errors import PoisonRecord, TransientError
from platform_worker.retry import RetryPolicy


def settings(**overrides):
    return WorkerSettings(**{"max_attempts": 4, "backoff_base_seconds": 0.001, "backoff_max_seconds": 0.01, **overrides})


class Flaky:
    def __init__(self, failures: int, error=TransientError("redis down")):
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "ok"


def test_retries_a_transient_failure_until_it_passes():
    retried = []
    result, attempts = RetryPolicy(settings(), threading.Event()).call(Flaky(2), on_retry=retried.append)
    assert (result, attempts) == ("ok", 3)
    assert retried == [1, 2]


def test_gives_up_after_max_attempts_and_says_how_many():
    flaky = Flaky(10)
    with pytest.raises(TransientError) as raised:
        RetryPolicy(settings(), threading.Event()).call(flaky)
    assert flaky.calls == 4
    assert raised.value.attempts == 4


def test_never_retries_a_poison_record():
    flaky = Flaky(1, PoisonRecord(ValueError("bad")))
    with pytest.raises(PoisonRecord):
        RetryPolicy(settings(), threading.Event()).call(flaky)
    assert flaky.calls == 1


def test_total_retry_time_stays_within_the_budget_of_the_poll_interval():
    slow = settings(max_attempts=1000, backoff_base_seconds=0.2, backoff_max_seconds=0.5, max_poll_interval_ms=3000)
    assert slow.retry_budget_seconds == 1.0
    started = time.monotonic()
    with pytest.raises(TransientError):
        RetryPolicy(slow, threading.Event()).call(Flaky(10_000))
    assert time.monotonic() - started < 1.5  # the budget, plus the last attempt itself


def test_a_stop_request_ends_the_retries_at_once():
    stopping = threading.Event()
    stopping.set()
    flaky = Flaky(10)
    with pytest.raises(TransientError):
        RetryPolicy(settings(backoff_base_seconds=10, backoff_max_seconds=10), stopping).call(flaky)
    assert flaky.calls == 1
