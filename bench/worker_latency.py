"""The worker's share of end-to-end latency: a record appended to the topic -> its SET in Redis.

A `platform-worker` process (its own group, fresh topics) runs idle; records with a new orderId are
produced at a steady rate (acks=all, no linger, one at a time as the relay's rows come). A
subscriber process stamps each key's first SET through Redis keyspace notifications (see
bench/e2e_latency.py). Latency from the broker's acknowledgement (the record is in the topic: an
upper bound on when it was appended, so a lower bound on the latency) and from the send call (an
upper bound). Usage:

    python -m bench.worker_latency [--rates 100,500] [--seconds 10]
"""
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone

import click
from kafka import KafkaProducer

from bench.e2e_latency import KeyspaceStamps
from bench.messages import order_processed
from common import defaults
from common.kafka_admin import delete_topics, ensure_topics
from common.kafka_connection import connection_to
from common.order_processed import iso_millis, kafka_headers
from harness.stats import percentiles
from harness.waiting import wait_for
from platform_worker.store import redis_key

ORDER_ID_BASE = 9_000_000_000_000  # far above any id a real or test database hands out


def _value(order_id: int) -> bytes:
    return json.dumps(order_processed(order_id, processed_at=iso_millis(datetime.now(timezone.utc)))).encode()


def _start_worker(brokers: str, redis_url: str, topic: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "KAFKA_BROKERS": brokers, "REDIS_URL": redis_url, "WORKER_TOPIC": topic,
           "WORKER_DLQ_TOPIC": f"{topic}.dlq", "WORKER_GROUP_ID": f"{topic}-worker",
           "WORKER_METRICS_PORT": str(port), "WORKER_METRICS_HOST": "127.0.0.1", "WORKER_LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "platform_worker"], env=env, stdout=subprocess.DEVNULL)


def _produce(producer: KafkaProducer, topic: str, first_id: int, rate: float, seconds: float) -> dict[int, list]:
    sent: dict[int, list] = {}
    started = time.perf_counter()
    for n in range(int(rate * seconds)):
        time.sleep(max(0.0, started + n / rate - time.perf_counter()))
        order_id = first_id + n
        times = sent[order_id] = [time.time(), None]
        future = producer.send(topic, key=str(order_id).encode(), value=_value(order_id),
                               headers=kafka_headers(str(uuid.uuid4())))
        future.add_callback(lambda _meta, times=times: times.__setitem__(1, time.time()))
    producer.flush()
    return sent


def measure(brokers: str, redis_url: str, rates: tuple[float, ...], seconds: float, port: int) -> dict:
    topic = f"bench-lat-{uuid.uuid4().hex[:8]}.order.processed"
    ensure_topics(brokers, [(topic, 6), (f"{topic}.dlq", 6)])
    producer = KafkaProducer(**connection_to(brokers).client_options(), acks="all", enable_idempotence=True, linger_ms=0)
    worker = _start_worker(brokers, redis_url, topic, port)
    results, first_id = {}, ORDER_ID_BASE + uuid.uuid4().int % 10**9 * 1000
    try:
        with KeyspaceStamps(redis_url) as stamps:  # warm-up record: the worker has joined and stores
            _produce(producer, topic, first_id, 1, 1)
            wait_for(lambda: redis_key(first_id) in _peek(redis_url, [first_id]), timeout=60, what="worker stores")
            stamps.collect()
        first_id += 1
        for rate in rates:
            with KeyspaceStamps(redis_url) as stamps:
                sent = _produce(producer, topic, first_id, rate, seconds)
                wait_for(lambda: len(_peek(redis_url, list(sent))) == len(sent), timeout=60, what="all stored")
                seen = stamps.collect()
            from_ack = [(seen[redis_key(i)] - t[1]) * 1000 for i, t in sent.items() if redis_key(i) in seen]
            from_send = [(seen[redis_key(i)] - t[0]) * 1000 for i, t in sent.items() if redis_key(i) in seen]
            results[str(int(rate))] = {"records": len(sent), "from_ack_ms": percentiles(from_ack),
                                       "from_send_ms": percentiles(from_send), "missing": len(sent) - len(from_ack)}
            first_id += len(sent)
    finally:
        worker.terminate()
        worker.wait(30)
        producer.close()
        delete_topics(brokers, topic)  # and its .dlq
    return results


def _peek(redis_url: str, order_ids: list[int]) -> set[str]:
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = [redis_key(i) for i in order_ids]
    found = {key for key, value in zip(keys, client.mget(keys)) if value is not None}
    client.close()
    return found


@click.command()
@click.option("--rates", default="100,500", show_default=True)
@click.option("--seconds", default=10.0, show_default=True)
@click.option("--port", default=0, help="worker metrics port (default: WORKER_METRICS_PORT + 50)")
def main(rates: str, seconds: float, port: int) -> None:
    brokers = os.environ.get("KAFKA_BROKERS", defaults.KAFKA_BROKERS)
    redis_url = os.environ.get("REDIS_URL", defaults.REDIS_URL)
    port = port or int(os.environ.get("WORKER_METRICS_PORT", "9102")) + 50
    print(json.dumps(measure(brokers, redis_url, tuple(float(r) for r in rates.split(",")), seconds, port), indent=2))


if __name__ == "__main__":
    main()
