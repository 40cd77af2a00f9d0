"""The latency proxy (harness/latency_proxy.py): Kafka clients that bootstrap through it stay on it, and pay its delay."""
import time

import pytest
from kafka import KafkaProducer

from common.kafka_admin import wait_until_ready
from harness.latency_proxy import ProxyProcess
from harness.services import free_port


@pytest.fixture
def proxy(test_env):
    broker_port = int(test_env.kafka_brokers.split(",")[0].rsplit(":", 1)[1])
    started = ProxyProcess(free_port(), broker_port).start()
    yield started
    started.stop()


def send_ms(producer, topic) -> float:
    began = time.perf_counter()
    producer.send(topic, b"x").get(timeout=10)
    return (time.perf_counter() - began) * 1000


def test_the_broker_metadata_seen_through_the_proxy_points_back_at_the_proxy(proxy):
    cluster = wait_until_ready(proxy.brokers, timeout_s=15)

    assert [(b["host"], b["port"]) for b in cluster["brokers"]] == [("127.0.0.1", proxy.listen_port)]


def test_a_produce_through_the_proxy_takes_the_added_latency_both_ways(proxy, topics):
    producer = KafkaProducer(bootstrap_servers=[proxy.brokers], acks="all")
    try:
        send_ms(producer, topics[0])  # connect and fetch metadata first
        fast = send_ms(producer, topics[0])
        proxy.set_delay(100)
        slow = send_ms(producer, topics[0])
    finally:
        producer.close()

    assert slow >= 200
    assert fast < slow - 100
