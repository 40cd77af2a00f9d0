"""The worker's failures, told apart by class: a transient one may succeed later, a poison record never will."""


class WorkerError(Exception):
    """Base of every failure the worker handles on purpose."""


class TransientError(WorkerError):
    """The store could not be reached or answered too late; the same record may succeed on retry."""


class PoisonRecord(WorkerError):
    """The record can never be stored (not UTF-8, not JSON, or not an `order.processed` message)."""

    def __init__(self, cause: Exception):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


class DeadLetterFailed(WorkerError):
    """The dead-letter topic did not acknowledge a record, so its offset must not be committed."""


class FloodGuardTripped(WorkerError):
    """Too large a share of recent records failed: the worker stops instead of dead-lettering the topic."""


class ShutdownRequested(WorkerError):
    """The worker was asked to stop while a batch waited on retries; the batch stays uncommitted."""


class ReplayNotAcknowledged(WorkerError):
    """The main topic did not acknowledge a replayed record, so the replay's progress is not committed."""
