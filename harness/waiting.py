"""Synchronise on conditions, never on luck: poll with a deadline and say what was awaited."""
import time
from typing import Callable, TypeVar

T = TypeVar("T")


class ConditionTimeout(AssertionError):
    pass


def wait_for(
    condition: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.05, what: str = ""
) -> T:
    """Return the first truthy value of `condition()`; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except Exception as error:  # the condition may fail until the awaited thing is up
            last_error = error
        if time.monotonic() >= deadline:
            raise ConditionTimeout(f"not true within {timeout}s: {what or condition}; last error: {last_error!r}")
        time.sleep(interval)
