"""Helpers for the worker's tests: order records, producing them, and reading the worker's results."""
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import requests
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from common.kafka_connection import parse_brokers
from common.order_processed import iso_millis, kafka_headers
from harness.services import ServiceProcess
from harness.waiting import wait_for
from platform_worker.store import redis_key
from tests.support.kafka import consume, header

_next_block = itertools.count()


def order_ids(test_env, count: int) -> list[int]:
    """Ids of this test run only (above what the run's database hands out), never reused in the run."""
    start = test_env.id_offset + 500_000 + next(_next_block) * 10_000
    assert count <= 10_000
    return list(range(start, start + count))


def order_value(order_id: int, **overrides) -> bytes:
    message = {
        "orderId": order_id,
        "userId": 7,
        "finalAmount": 45000,
        "couponId": None,
        "items": [{"productOptionId": 3, "productName": "T-shirt", "quantity": 2, "price": 25000}],
        "processedAt": iso_millis(datetime.now(timezone.utc)),
        **overrides,
    }
    return json.dumps(message, separators=(", ", ": ")).encode()


def event_headers() -> list[tuple[str, bytes]]:
    return kafka_headers(str(uuid.uuid4()))


class Producer:
    def __init__(self, brokers: str, topic: str):
        self.topic = topic
        self.producer = KafkaProducer(bootstrap_servers=parse_brokers(brokers), acks="all", linger_ms=5)

    def send(self, key: bytes | None, value: bytes | None, headers=None) -> None:
        self.producer.send(self.topic, key=key, value=value, headers=headers if headers is not None else event_headers())

    def orders(self, ids: list[int]) -> None:
        for order_id in ids:
            self.send(str(order_id).encode(), order_value(order_id))
        self.flush()

    def flush(self) -> None:
        self.producer.flush(timeout=30)

    def close(self) -> None:
        self.producer.close()


class Stream:
    """Produce `ids` at about `rate` records/s on a thread, so faults can strike mid-stream."""

    def __init__(self, producer: Producer, ids: list[int], rate: float):
        self.producer, self.ids, self.rate = producer, ids, rate
        self.sent = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Stream":
        self.thread.start()
        return self

    def _run(self) -> None:
        started = time.monotonic()
        for n, order_id in enumerate(self.ids):
            due = started + n / self.rate
            time.sleep(max(0.0, due - time.monotonic()))  # pacing the load, not synchronising the test
            self.producer.send(str(order_id).encode(), order_value(order_id))
            self.sent = n + 1
        self.producer.flush()

    def join(self, timeout: float = 120) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the stream did not finish"
        assert self.sent == len(self.ids), f"the stream stopped after {self.sent} of {len(self.ids)} records"


def stored(redis_client, ids: list[int]) -> set[int]:
    present = set()
    for chunk in range(0, len(ids), 1000):
        part = ids[chunk:chunk + 1000]
        pipe = redis_client.pipeline(transaction=False)
        for order_id in part:
            pipe.exists(redis_key(order_id))
        present.update(order_id for order_id, found in zip(part, pipe.execute()) if found)
    return present


def dead_lettered(brokers: str, dlq_topic: str, expected: int, timeout: float = 60) -> list:
    return consume(brokers, dlq_topic, expected=expected, timeout=timeout)


def dead_lettered_ids(records) -> set[int]:
    return {int(record.key) for record in records if record.key and record.key.isdigit()}


@dataclass
class Worker:
    process: ServiceProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def metric(self, name: str, **labels) -> float | None:
        """The sample's value, None when the worker does not expose it."""
        text = requests.get(f"{self.url}/metrics", timeout=2).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return sample.value
        return None

    def ready(self) -> int:
        return requests.get(f"{self.url}/readyz", timeout=2).status_code

    def readiness(self) -> str:
        return requests.get(f"{self.url}/readyz", timeout=2).text

    def alive(self) -> bool:
        return self.process.process.poll() is None


__all__ = ["consume", "header"]


class TopicReader:
    """Everything that reached a topic so far, read with a group of its own and kept as it arrives."""

    def __init__(self, brokers: str, topic: str):
        from kafka import KafkaConsumer

        self.records: list = []
        self.consumer = KafkaConsumer(
            topic, bootstrap_servers=parse_brokers(brokers), group_id=f"test-reader-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest", enable_auto_commit=False,
        )

    def read(self) -> list:
        for batch in self.consumer.poll(timeout_ms=200).values():
            self.records.extend(batch)
        return self.records

    def close(self) -> None:
        self.consumer.close()


def topic_size(brokers: str, topic: str) -> int:
    """Records ever appended to the topic (the sum of its partitions' end offsets)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=parse_brokers(brokers))
    try:
        numbers = wait_for(lambda: consumer.partitions_for_topic(topic), timeout=30, what=f"{topic} metadata")
        partitions = [TopicPartition(topic, p) for p in numbers]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()
