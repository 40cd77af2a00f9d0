"""Offsets of finished work, committed without stalling the loop.

Only offsets after finished batches are ever recorded, so any commit, however late or repeated, is
safe: at worst a partition's new owner stores some records again. The finished offsets of every
owned partition go out asynchronously, one commit in flight at a time and at most every
`interval_s` while records keep coming, at once when the worker has caught up (a failed commit is
covered by the next); on shutdown they are committed synchronously before the consumer leaves the
group. One commit per small batch would, at a few hundred records/s, send the broker hundreds of
commits a second and overrun the connection's in-flight limit.

A partition revoked in a (cooperative) rebalance is handed over: its finished offsets are committed
at once and then forgotten. The commit is queued before this member rejoins the group, and the
partition reaches its next owner only in the rebalance that follows that rejoin, so the next owner
starts where this one finished and an old offset is never committed over its work. A lost
partition (this member was evicted) is only forgotten: its offsets can no longer be committed.
"""
import threading
import time

import structlog
from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition

log = structlog.get_logger("platform_worker")

COMMIT_INTERVAL_S = 0.25


class CommitTracker:
    def __init__(self, consumer: KafkaConsumer, timeout_ms: int = 5000, interval_s: float = COMMIT_INTERVAL_S):
        self.consumer = consumer
        self.timeout_ms = timeout_ms
        self.interval_s = interval_s
        self._finished: dict[TopicPartition, OffsetAndMetadata] = {}
        self._lock = threading.Lock()  # rebalance and commit callbacks run on the consumer's IO thread
        self._pending = False  # finished offsets not yet sent in a commit
        self._in_flight = False
        self._sent_at = float("-inf")

    def finished(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        owned = self.consumer.assignment()
        with self._lock:
            self._finished.update({tp: offset for tp, offset in offsets.items() if tp in owned})
            self._pending = True
        if time.monotonic() - self._sent_at >= self.interval_s:
            self._commit_async()

    def caught_up(self) -> None:
        """The poll came back empty: commit what is finished now rather than at the next batch."""
        self._commit_async()

    def hand_over(self, partitions) -> None:
        """Revoked: commit what is finished on these partitions, then forget them (see above)."""
        with self._lock:
            offsets = {tp: self._finished.pop(tp) for tp in partitions if tp in self._finished}
        if not offsets:
            return
        try:  # queued, not awaited: this runs on the consumer's IO thread, inside the rebalance
            self.consumer.commit_async(offsets, callback=self._on_hand_over)
        except Exception as error:  # the records are stored; the next owner redoes them at worst
            log.warning("offset commit of revoked partitions failed", error=repr(error))

    def forget(self, partitions) -> None:
        with self._lock:
            for tp in partitions:
                self._finished.pop(tp, None)

    def commit_now(self) -> bool:
        offsets = self._owned()
        if not offsets:
            return True
        try:
            self.consumer.commit(offsets, timeout_ms=self.timeout_ms)
            return True
        except Exception as error:  # the records are stored; a later owner redoes them at worst
            log.warning("final offset commit failed", error=repr(error))
            return False

    def _commit_async(self) -> None:
        with self._lock:
            if self._in_flight or not self._pending:
                return
            self._in_flight, self._pending = True, False
        self._sent_at = time.monotonic()
        try:
            self.consumer.commit_async(self._owned(), callback=self._on_commit)
        except Exception as error:
            self._on_commit({}, error)

    def _owned(self) -> dict[TopicPartition, OffsetAndMetadata]:
        owned = self.consumer.assignment()
        with self._lock:
            return {tp: offset for tp, offset in self._finished.items() if tp in owned}

    @staticmethod
    def _on_hand_over(offsets, response) -> None:
        if isinstance(response, Exception):
            log.warning("offset commit of revoked partitions failed", error=repr(response))

    def _on_commit(self, offsets, response) -> None:
        with self._lock:
            self._in_flight = False
            if isinstance(response, Exception):
                self._pending = True  # the next commit covers it
        if isinstance(response, Exception):
            log.warning("offset commit failed; the next commit covers it", error=repr(response))
