"""`platform-worker replay-dlq`: re-publish dead-lettered records onto WORKER_TOPIC, each once.

A record goes back with its original key, value bytes and headers (the `dlq.*` ones dropped), so
the worker handles it like the first time. Progress is kept in Kafka by the replay's own consumer
group on the DLQ topic (WORKER_REPLAY_GROUP_ID, see replay_progress.py), committed only after the
main topic acknowledged the replayed records: a crashed replay repeats at most its last batch.
Records that `--order-id` filters out, or that exceed `--limit`, stay to be replayed by a later run.
The run reads up to the DLQ's end as it was at start, so records dead-lettered again meanwhile wait
for the next run. Run one replay at a time.
"""
from dataclasses import dataclass

from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaError

from platform_worker.config import WorkerSettings
from platform_worker.dead_letter import make_producer, original_headers
from platform_worker.errors import ReplayNotAcknowledged
from platform_worker.replay_progress import ReplayProgress

POLL_TIMEOUT_MS = 1000
IDLE_POLLS_BEFORE_GIVING_UP = 30


@dataclass
class ReplayReport:
    replayed: int = 0
    skipped: int = 0  # filtered out or over the limit; left for a later run
    already_replayed: int = 0


def replay_dlq(settings: WorkerSettings, limit: int | None = None, order_id: str | None = None) -> ReplayReport:
    consumer = KafkaConsumer(
        **settings.client_options(),
        client_id=f"{settings.kafka_client_id}-worker-replay",
        group_id=settings.replay_group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        allow_auto_create_topics=False,
    )
    producer = make_producer(settings, "replay")
    try:
        return _Replay(settings, consumer, producer, limit, order_id).run()
    finally:
        consumer.close(autocommit=False)
        producer.close()


class _Replay:
    def __init__(self, settings, consumer, producer, limit, order_id):
        self.settings = settings
        self.consumer = consumer
        self.producer = producer
        self.limit = limit
        self.order_key = order_id.encode() if order_id is not None else None
        self.report = ReplayReport()

    def run(self) -> ReplayReport:
        partitions = [TopicPartition(self.settings.dlq_topic, p) for p in self._partition_ids()]
        self.consumer.assign(partitions)
        self.ends = self.consumer.end_offsets(partitions)
        self.progress = {tp: self._load(tp) for tp in partitions}
        for tp, progress in self.progress.items():
            self.consumer.seek(tp, progress.next_offset)
        idle = 0
        while not self._finished() and idle < IDLE_POLLS_BEFORE_GIVING_UP:
            batch = self.consumer.poll(timeout_ms=POLL_TIMEOUT_MS)
            idle = 0 if batch else idle + 1
            self._replay_batch(batch)
        return self.report

    def _partition_ids(self) -> list[int]:
        ids = self.consumer.partitions_for_topic(self.settings.dlq_topic)
        if not ids:
            raise KafkaError(f"topic {self.settings.dlq_topic} not found")
        return sorted(ids)

    def _load(self, tp: TopicPartition) -> ReplayProgress:
        committed = self.consumer.committed(tp, metadata=True)
        if committed is None or committed.offset < 0:
            start = self.consumer.beginning_offsets([tp])[tp]
            return ReplayProgress(start)
        return ReplayProgress.from_commit(committed.offset, committed.metadata or "")

    def _finished(self) -> bool:
        if self.limit is not None and self.report.replayed >= self.limit:
            return True
        return all(self.consumer.position(tp) >= self.ends[tp] for tp in self.progress)

    def _replay_batch(self, batch) -> None:
        sent = []
        for tp, records in batch.items():
            for record in records:
                if record.offset >= self.ends[tp]:
                    break
                if self.progress[tp].is_done(record.offset):
                    self.report.already_replayed += 1
                elif self._wanted(record):
                    self.report.replayed += 1
                    sent.append((tp, record.offset, self._send(record)))
                else:
                    self.report.skipped += 1
        self._await_and_commit(sent)

    def _wanted(self, record) -> bool:
        if self.order_key is not None and record.key != self.order_key:
            return False
        return self.limit is None or self.report.replayed < self.limit

    def _send(self, record):
        return self.producer.send(
            self.settings.topic, key=record.key, value=record.value, headers=original_headers(record.headers)
        )

    def _await_and_commit(self, sent) -> None:
        if not sent:
            return
        try:
            self.producer.flush(timeout=self.settings.dlq_timeout_seconds)
            for _, _, future in sent:
                future.get(timeout=self.settings.dlq_timeout_seconds)
        except KafkaError as error:
            raise ReplayNotAcknowledged(f"replay not acknowledged: {error!r}; nothing of this batch committed") from error
        for tp, offset, _ in sent:
            self.progress[tp].mark_done(offset)
        offsets = {tp: OffsetAndMetadata(p.next_offset, p.metadata(), -1) for tp, p in self.progress.items()}
        self.consumer.commit(offsets)
