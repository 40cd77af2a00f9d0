"""The worker's failures, told apart by class, by what they mean for the next step: the sink is away
(wait for it, keep everything), this record was refused (retry it, then dead-letter it), this record
can never succeed (dead-letter it at once)."""


class WorkerError(Exception):
    """Base of every failure the worker handles on purpose."""


class SinkDown(WorkerError):
    """Redis cannot take writes right now (unreachable, timing out, loading, read-only, out of memory...).
    Not a record's failure: the batch is held until Redis answers (sink_outage.py)."""


class RecordRefused(WorkerError):
    """Redis refused this one record while it took the others (e.g. an ACL refusing its key)."""


class PoisonRecord(WorkerError):
    """The record can never be stored (not UTF-8, not JSON, or not an `order.processed` message)."""

    def __init__(self, cause: Exception):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


class DeadLetterFailed(WorkerError):
    """The dead-letter topic did not acknowledge a record, so its offset must not be committed."""


class ShutdownRequested(WorkerError):
    """The worker was asked to stop while a batch waited (on retries or on the sink); it stays uncommitted."""


class ReplayNotAcknowledged(WorkerError):
    """The main topic did not acknowledge a replayed record, so the replay's progress is not committed."""
