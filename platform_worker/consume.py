"""The worker's Kafka consumer: group member with the cooperative-sticky assignor and manual commits.

Auto-commit is off: offsets are committed by commits.py, only for batches the worker finished.
"""
from kafka import ConsumerRebalanceListener, KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor

from platform_worker.config import WorkerSettings

Batch = dict[TopicPartition, list]  # what KafkaConsumer.poll returns


def make_consumer(settings: WorkerSettings, listener: ConsumerRebalanceListener | None = None) -> KafkaConsumer:
    consumer = KafkaConsumer(
        **settings.client_options(),
        client_id=f"{settings.kafka_client_id}-worker",
        group_id=settings.group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        allow_auto_create_topics=False,
        partition_assignment_strategy=[CooperativeStickyAssignor],
        max_poll_records=settings.max_poll_records,
        max_poll_interval_ms=settings.max_poll_interval_ms,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        fetch_max_bytes=settings.fetch_max_bytes,
        max_partition_fetch_bytes=settings.max_partition_fetch_bytes,
    )
    consumer.subscribe([settings.topic], listener=listener)
    return consumer


def records_of(batch: Batch) -> list:
    return [record for records in batch.values() for record in records]


def next_offsets(batch: Batch) -> dict[TopicPartition, OffsetAndMetadata]:
    return {tp: OffsetAndMetadata(records[-1].offset + 1, "", -1) for tp, records in batch.items() if records}


def rewind(consumer: KafkaConsumer, batch: Batch) -> None:
    """Seek back to the batch's first records, so an unfinished batch is polled again."""
    owned = consumer.assignment()
    for tp, records in batch.items():
        if records and tp in owned:
            consumer.seek(tp, records[0].offset)


def lag_by_partition(consumer: KafkaConsumer) -> dict[TopicPartition, int]:
    """Records between our position and the high watermark, for owned partitions where both are known.

    Called between batches, when the position is also where our finished work ends.
    """
    lags = {}
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is None:
            continue
        position = consumer.position(tp, timeout_ms=0)
        if position is not None:
            lags[tp] = max(0, highwater - position)
    return lags
