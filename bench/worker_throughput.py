"""Worker throughput into Redis next to the raw kafka-python consumer, on the same topic, same run.

A fresh topic is filled with N valid `order.processed` records first. Then, in each round, (1) a
bare KafkaConsumer (default settings but the worker's max_poll_records and fetch sizes) in a new
group reads all N, and (2) the worker's loop (in this process: its real consumer, store,
dead-letter producer and metrics) in a new group stores all N into Redis. Both clocks run from the
consumer's creation (group join included) to the last record. Rounds alternate raw and worker, so a
busy machine slows both alike; the summary is the median of the rounds. Both sides share this process,
which imported the worker: its start-up heap is frozen first, as `platform-worker` freezes its own
(bootstrap.freeze_startup_heap), so neither side's full garbage collections traverse those imports. Usage:

    python -m bench.worker_throughput [--records 100000] [--rounds 3] [--profile out.html]
"""
import statistics
import json
import logging
import threading
import time
import uuid
from datetime import datetime, timezone

import click
import redis
from kafka import KafkaConsumer, KafkaProducer

from bench.messages import order_processed
from common.kafka_admin import delete_topics, ensure_topics
from common.kafka_connection import connection_to
from common.log import configure_logging
from common.order_processed import iso_millis, kafka_headers
from platform_worker.bootstrap import build_worker, freeze_startup_heap
from platform_worker.config import WorkerSettings
from platform_worker.metrics import WorkerMetrics
from platform_worker.store import redis_key

ORDER_ID_BASE = 8_000_000_000_000  # far above any id a real or test database hands out


def fill_topic(brokers: str, topic: str, records: int) -> None:
    producer = KafkaProducer(
        **connection_to(brokers).client_options(), acks="all", linger_ms=20, batch_size=256 * 1024,
        compression_type=None,
    )
    processed_at = iso_millis(datetime.now(timezone.utc))
    for i in range(records):
        order_id = ORDER_ID_BASE + i
        value = order_processed(order_id, processed_at=processed_at)
        producer.send(
            topic, key=str(order_id).encode(), value=json.dumps(value).encode(),
            headers=kafka_headers(str(uuid.uuid4())),
        )
    producer.flush()
    producer.close()


def raw_consumer_rate(settings: WorkerSettings, records: int) -> float:
    started = time.perf_counter()
    consumer = KafkaConsumer(
        settings.topic, **settings.client_options(), group_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest", enable_auto_commit=False, max_poll_records=settings.max_poll_records,
        fetch_max_bytes=settings.fetch_max_bytes, max_partition_fetch_bytes=settings.max_partition_fetch_bytes,
    )
    seen = 0
    while seen < records:
        for batch in consumer.poll(timeout_ms=500).values():
            seen += len(batch)
    elapsed = time.perf_counter() - started
    consumer.close(autocommit=False)
    return records / elapsed


def worker_rate(settings: WorkerSettings, records: int, profile: str | None = None) -> float:
    stopping = threading.Event()
    metrics = WorkerMetrics()
    stored = StoredClock(metrics, records)
    started = time.perf_counter()
    worker, producer = build_worker(settings, metrics, stopping)
    target = (lambda: _run_profiled(worker, profile)) if profile else worker.run
    thread = threading.Thread(target=target)
    thread.start()
    while not stored.done.wait(0.5) and thread.is_alive():
        pass
    stopping.set()
    thread.join()
    worker.consumer.close(autocommit=False)
    producer.close()
    if not stored.done.is_set():
        raise RuntimeError(f"worker stopped after {stored.count} of {records} records")
    return records / (stored.finished_at - started)


class StoredClock:
    """Notes the moment the worker counts its `records`-th stored record, in the worker's own thread.

    Waiting on it costs the worker nothing; polling the counter every few milliseconds took the GIL
    from the worker loop hundreds of times a second (py-spy: 4-8 % of the worker's GIL samples).
    """

    def __init__(self, metrics: WorkerMetrics, records: int):
        self.records = records
        self.count = 0
        self.finished_at = 0.0
        self.done = threading.Event()
        self._counter = metrics.records.labels("stored")
        self._count_stored = self._counter.inc
        self._counter.inc = self._inc  # the worker's `stored` counter, counted here too

    def _inc(self, amount: float = 1) -> None:
        self._count_stored(amount)
        self.count += amount
        if self.count >= self.records and not self.done.is_set():
            self.finished_at = time.perf_counter()
            self.done.set()


def _run_profiled(worker, profile: str) -> None:
    from pyinstrument import Profiler

    profiler = Profiler()
    profiler.start()
    try:
        worker.run()
    finally:
        profiler.stop()
        with open(profile, "w") as out:
            out.write(profiler.output_html())
        print(profiler.output_text(unicode=False, color=False, show_all=False)[:6000])


def run(records: int = 100_000, partitions: int = 6, rounds: int = 1, brokers: str | None = None,
        redis_url: str | None = None, profile: str | None = None) -> dict:
    base = WorkerSettings()
    run_id = uuid.uuid4().hex[:8]
    settings = base.model_copy(update={
        "topic": f"bench-{run_id}.order.processed", "dlq_topic": f"bench-{run_id}.order.processed.dlq",
        "metrics_port": 0,
        **({"kafka_brokers": brokers} if brokers else {}), **({"redis_url": redis_url} if redis_url else {}),
    })
    ensure_topics(settings.kafka_brokers, [(settings.topic, partitions), (settings.dlq_topic, partitions)])
    try:
        freeze_startup_heap()
        started = time.perf_counter()
        fill_topic(settings.kafka_brokers, settings.topic, records)
        fill_s = time.perf_counter() - started
        results, stored_ok = [], True
        for n in range(rounds):
            cpu = time.process_time()
            raw = raw_consumer_rate(settings, records)
            raw_cpu, cpu = time.process_time() - cpu, time.process_time()
            in_group = settings.model_copy(update={"group_id": f"bench-{run_id}-worker-{n}"})
            worker = worker_rate(in_group, records, profile if n == 0 else None)
            worker_cpu = time.process_time() - cpu
            stored_ok = _check_and_clean(settings.redis_url, records) and stored_ok
            results.append({"raw_consumer_records_per_s": round(raw), "worker_records_per_s": round(worker),
                            "ratio": round(worker / raw, 3),
                            # CPU of this process per record: steadier than wall time on a shared machine
                            "raw_cpu_us_per_record": round(raw_cpu / records * 1e6, 1),
                            "worker_cpu_us_per_record": round(worker_cpu / records * 1e6, 1),
                            "cpu_ratio": round(raw_cpu / worker_cpu, 3)})
    finally:
        delete_topics(settings.kafka_brokers, f"bench-{run_id}.")
    median = {key: statistics.median(r[key] for r in results) for key in results[0]}
    return {
        "records": records, "partitions": partitions, "topic": settings.topic, "fill_seconds": round(fill_s, 2),
        **median, "rounds": results, "all_records_in_redis": stored_ok,
        "targets": {"worker_records_per_s": 10_000, "ratio": 0.7},
        "meets_targets": median["worker_records_per_s"] >= 10_000 and median["ratio"] >= 0.7 and stored_ok,
    }


def _check_and_clean(redis_url: str, records: int) -> bool:
    client = redis.Redis.from_url(redis_url)
    keys = [redis_key(ORDER_ID_BASE + i) for i in range(records)]
    present = sum(client.exists(*keys[i:i + 10_000]) for i in range(0, records, 10_000))
    for i in range(0, records, 10_000):
        client.delete(*keys[i:i + 10_000])
    client.close()
    return present == records


@click.command()
@click.option("--records", default=100_000, show_default=True)
@click.option("--partitions", default=6, show_default=True)
@click.option("--rounds", default=3, show_default=True)
@click.option("--profile", default=None, help="write a pyinstrument HTML profile of the worker loop here")
def main(records: int, partitions: int, rounds: int, profile: str | None) -> None:
    configure_logging("bench", level="WARNING")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    print(json.dumps(run(records=records, partitions=partitions, rounds=rounds, profile=profile), indent=2))


if __name__ == "__main__":
    main()
