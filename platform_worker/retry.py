"""Retry policy for transient failures: exponential backoff with full jitter, through tenacity.

Bounded two ways: at most `WORKER_MAX_ATTEMPTS` attempts, and at most `retry_budget_seconds` (a third of
max_poll_interval_ms) of total time, so a batch never keeps the consumer from polling long enough
to be evicted from its group. A shutdown request cuts the waiting short.
"""
import threading
from typing import Callable, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from platform_worker.config import WorkerSettings
from platform_worker.errors import TransientError

T = TypeVar("T")


class RetryPolicy:
    def __init__(
        self,
        settings: WorkerSettings,
        stopping: threading.Event,
    ):
        self.settings = settings
        self.stopping = stopping

    def call(self, fn: Callable[[], T], on_retry: Callable[[int], None] | None = None) -> tuple[T, int]:
        """Run `fn` until it succeeds; returns its result and the attempts it took.

        Re-raises the last TransientError once the attempts or the time budget run out, or the worker stops;
        the error carries `.attempts`.
        """
        retrying = self._retrying(on_retry)
        try:
            result = retrying(fn)
        except TransientError as error:
            error.attempts = retrying.statistics.get("attempt_number", 1)
            raise
        return result, retrying.statistics.get("attempt_number", 1)

    def _retrying(self, on_retry: Callable[[int], None] | None) -> Retrying:
        settings = self.settings
        return Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(settings.max_attempts)
            | stop_before_delay(settings.retry_budget_seconds)
            | self._stop_when_stopping,
            wait=wait_random_exponential(multiplier=settings.backoff_base_seconds, max=settings.backoff_max_seconds),
            sleep=self.stopping.wait,
            before_sleep=lambda state: on_retry and on_retry(state.attempt_number),
            reraise=True,
        )

    def _stop_when_stopping(self, retry_state: RetryCallState) -> bool:
        return self.stopping.is_set()
