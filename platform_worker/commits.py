"""Offsets of finished work, committed without stalling the loop.

Only offsets after finished batches are ever recorded, so any commit, however late or repeated, is
safe: at worst a partition's new owner stores some records again. After each batch the finished
offsets of every owned partition go out asynchronously (a failed commit is covered by the next);
on shutdown they are committed synchronously before the consumer leaves the group. A revoked
partition is forgotten at once, so an old offset is never committed over its next owner's work.
"""
import threading

import structlog
from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition

log = structlog.get_logger("platform_worker")


class CommitTracker:
    def __init__(self, consumer: KafkaConsumer, timeout_ms: int = 5000):
        self.consumer = consumer
        self.timeout_ms = timeout_ms
        self._finished: dict[TopicPartition, OffsetAndMetadata] = {}
        self._lock = threading.Lock()  # rebalance callbacks run on the consumer's IO thread

    def finished(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        owned = self.consumer.assignment()
        with self._lock:
            self._finished.update({tp: offset for tp, offset in offsets.items() if tp in owned})
        self.consumer.commit_async(self._owned(), callback=self._on_commit)

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

    def _owned(self) -> dict[TopicPartition, OffsetAndMetadata]:
        owned = self.consumer.assignment()
        with self._lock:
            return {tp: offset for tp, offset in self._finished.items() if tp in owned}

    @staticmethod
    def _on_commit(offsets, response) -> None:
        if isinstance(response, Exception):
            log.warning("offset commit failed; the next commit covers it", error=repr(response))
