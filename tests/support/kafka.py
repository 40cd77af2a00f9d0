"""Read what really reached the broker: partitions assigned directly, no consumer group to join."""
from kafka import KafkaConsumer, TopicPartition

from common.kafka_connection import parse_brokers
from harness.waiting import wait_for


def consume(brokers: str, topic: str, *, expected: int, timeout: float = 60.0) -> list:
    """Every record of `topic` from the beginning, once at least `expected` have been read."""
    consumer = KafkaConsumer(bootstrap_servers=parse_brokers(brokers), enable_auto_commit=False, group_id=None)
    records: list = []
    try:
        partitions = wait_for(lambda: consumer.partitions_for_topic(topic), timeout=timeout, what=f"{topic} metadata")
        consumer.assign([TopicPartition(topic, partition) for partition in partitions])
        consumer.seek_to_beginning()

        def enough() -> bool:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
            return len(records) >= expected

        wait_for(enough, timeout=timeout, interval=0, what=f"{expected} records on {topic}")
    finally:
        consumer.close()
    return records


def header(record, name: str) -> str | None:
    for key, value in record.headers or []:
        if key == name:
            return value.decode()
    return None


def find_record(brokers: str, topic: str, key: str, *, timeout: float = 60.0):
    """The first record of `topic` with this key, read from the beginning."""
    consumer = KafkaConsumer(bootstrap_servers=parse_brokers(brokers), enable_auto_commit=False, group_id=None)
    try:
        partitions = wait_for(lambda: consumer.partitions_for_topic(topic), timeout=timeout, what=f"{topic} metadata")
        consumer.assign([TopicPartition(topic, partition) for partition in partitions])
        consumer.seek_to_beginning()

        def keyed():
            for batch in consumer.poll(timeout_ms=200).values():
                for record in batch:
                    if record.key == key.encode():
                        return record
            return None

        return wait_for(keyed, timeout=timeout, interval=0, what=f"record {key} on {topic}")
    finally:
        consumer.close()
