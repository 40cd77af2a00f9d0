"""Retries of records Redis refused on their own: exponential backoff with full jitter, through tenacity.

Only the refused records are written again, the others of their batch being stored already. Bounded two
ways: at most `WORKER_MAX_ATTEMPTS` attempts per record (the batch's own write is the first), and at most
`retry_budget_seconds` (a third of max_poll_interval_ms) of waiting, so the loop is never kept from
polling long enough to be evicted from its group. A shutdown request cuts the waiting short. A sink
outage met while retrying is not retried here: SinkDown propagates (sink_outage.py holds the batch).
"""
import threading
from typing import Callable, TypeVar

from tenacity import Retrying, retry_if_result, stop_after_attempt, stop_before_delay, wait_random_exponential

from platform_worker.config import WorkerSettings

T = TypeVar("T")
Refused = list[tuple[T, Exception]]  # items Redis refused, each with its reason


class RecordRetry:
    def __init__(self, settings: WorkerSettings, stopping: threading.Event, on_retry: Callable[[int], None]):
        self.settings = settings
        self.stopping = stopping
        self.on_retry = on_retry  # called with the number of records about to be written again

    def retry(self, write: Callable[[list[T]], Refused], refused: Refused) -> tuple[Refused, int]:
        """Write the refused items again until Redis takes them all, the attempts or the time budget run
        out, or the worker stops. `write` returns the items refused again. Returns those still refused
        and the attempts they had."""
        remaining = refused

        def attempt() -> Refused:
            nonlocal remaining
            remaining = write([item for item, _ in remaining])
            return remaining

        retrying = self._retrying(lambda: len(remaining))
        if refused and self.settings.max_attempts > 1 and not self.stopping.is_set():
            retrying(attempt)
        return remaining, 1 + retrying.statistics.get("attempt_number", 0)

    def _retrying(self, refused_count: Callable[[], int]) -> Retrying:
        settings = self.settings
        return Retrying(
            retry=retry_if_result(bool),
            stop=stop_after_attempt(settings.max_attempts - 1)
            | stop_before_delay(settings.retry_budget_seconds)
            | (lambda state: self.stopping.is_set()),
            wait=wait_random_exponential(multiplier=settings.backoff_base_seconds, max=settings.backoff_max_seconds),
            sleep=self.stopping.wait,
            before=lambda state: self.on_retry(refused_count()),
            retry_error_callback=lambda state: state.outcome.result(),
        )
