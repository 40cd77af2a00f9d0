"""The worker's lag in seconds: per partition, how old is the oldest record polled but not yet finished
(stored or dead-lettered and committable).

The loop notes the first record of every batch it polls (kept, held or rewound alike) and forgets
those below each committed offset; the age is now minus that record's Kafka timestamp. A partition
with nothing polled and unfinished is 0 s behind as far as the worker knows (`worker_consumer_lag`
counts what it has not fetched yet).
"""
from kafka import OffsetAndMetadata, TopicPartition


class UnstoredAges:
    def __init__(self):
        self._starts: dict[TopicPartition, dict[int, int]] = {}  # partition -> {first offset of a batch: its timestamp ms}

    def polled(self, batch: dict) -> None:
        for tp, records in batch.items():
            if records:
                self._starts.setdefault(tp, {}).setdefault(records[0].offset, records[0].timestamp)

    def finished(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        for tp, next_offset in offsets.items():
            starts = self._starts.get(tp)
            if starts is None:
                continue
            for offset in [offset for offset in starts if offset < next_offset.offset]:
                del starts[offset]
            if not starts:
                del self._starts[tp]

    def ages(self, now_ms: int, owned) -> dict[TopicPartition, float]:
        """Seconds behind for each owned partition; partitions no longer owned are forgotten."""
        for tp in [tp for tp in self._starts if tp not in owned]:
            del self._starts[tp]
        return {tp: max(0, now_ms - min(self._starts[tp].values())) / 1000 if tp in self._starts else 0.0 for tp in owned}
