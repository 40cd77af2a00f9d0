import threading
import time

from platform_worker.config import WorkerSettings
from platform_worker.errors import RecordRefused
from platform_worker.retry import RecordRetry


def settings(**overrides):
    return WorkerSettings(**{"max_attempts": 4, "backoff_base_seconds": 0.001, "backoff_max_seconds": 0.01, **overrides})


class Redis:
    """Refuses each item the first `refusals[item]` times it is written here (after the batch's refusal)."""

    def __init__(self, refusals: dict[str, int]):
        self.refusals = dict(refusals)
        self.writes: list[list[str]] = []

    def write(self, items):
        self.writes.append(list(items))
        refused = []
        for item in items:
            if self.refusals.get(item, 0) > 0:
                self.refusals[item] -= 1
                refused.append((item, RecordRefused(f"NOPERM {item}")))
        return refused


def first_refusal(*items):
    return [(item, RecordRefused(f"NOPERM {item}")) for item in items]


def retry(redis, refused, stopping=None, **overrides):
    retried = []
    policy = RecordRetry(settings(**overrides), stopping or threading.Event(), on_retry=retried.append)
    remaining, attempts = policy.retry(redis.write, refused)
    return remaining, attempts, retried


def test_writes_only_the_refused_records_again_until_redis_takes_them():
    redis = Redis({"b": 1})  # a is taken at the first retry, b at the second
    remaining, attempts, retried = retry(redis, first_refusal("a", "b"))
    assert remaining == []
    assert redis.writes == [["a", "b"], ["b"]]
    assert retried == [2, 1]
    assert attempts == 3


def test_gives_up_after_max_attempts_counting_the_batch_write_and_says_how_many():
    redis = Redis({"a": 100})
    remaining, attempts, _ = retry(redis, first_refusal("a"))
    assert [item for item, _ in remaining] == ["a"]
    assert isinstance(remaining[0][1], RecordRefused)
    assert len(redis.writes) == 3
    assert attempts == 4


def test_one_attempt_means_no_retry():
    redis = Redis({"a": 100})
    remaining, attempts, retried = retry(redis, first_refusal("a"), max_attempts=1)
    assert (len(remaining), attempts, retried, redis.writes) == (1, 1, [], [])


def test_total_retry_time_stays_within_the_budget_of_the_poll_interval():
    redis = Redis({"a": 10**6})
    started = time.monotonic()
    remaining, _, _ = retry(redis, first_refusal("a"), max_attempts=1000, backoff_base_seconds=0.2,
                            backoff_max_seconds=0.5, max_poll_interval_ms=3000)
    assert remaining
    assert time.monotonic() - started < 1.5  # the budget (1 s), plus the last attempt itself


def test_a_stop_request_ends_the_retries_at_once():
    stopping = threading.Event()
    stopping.set()
    redis = Redis({"a": 100})
    remaining, _, _ = retry(redis, first_refusal("a"), stopping=stopping, backoff_base_seconds=10, backoff_max_seconds=10)
    assert remaining and redis.writes == []
