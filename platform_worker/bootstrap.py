"""Wire the settings into a running worker: metrics endpoint, consumer, store, dead-letter producer.

`run_worker` is what `platform-worker` (no sub-command) runs; it returns the process exit code.
"""
import gc
import logging
import sys
import threading

import structlog
from kafka.errors import KafkaConnectionError, KafkaTimeoutError
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from common import tracing
from common.kafka_startup_check import KafkaMisconfigured, KafkaUnreachable, check as check_kafka
from common.log import configure_logging
from platform_worker.commits import CommitTracker
from platform_worker.config import WorkerSettings
from platform_worker.consume import make_consumer
from platform_worker.dead_letter import DeadLetterPublisher, make_producer
from platform_worker.flood_guard import FloodGuard
from platform_worker.metrics import WorkerMetrics, serve
from platform_worker.pauses import FLOOD_GUARD, SINK_DOWN, Pauses
from platform_worker.process import BatchProcessor
from platform_worker.retry import RecordRetry
from platform_worker.rebalance import RebalanceListener
from platform_worker.runner import Worker, install_signal_handlers
from platform_worker.sink_outage import SinkOutage
from platform_worker.store import OrderStore, connect
from platform_worker.traces import StoreTraces

log = structlog.get_logger("platform_worker")

KAFKA_STARTUP_PATIENCE_S = 120
CLOSE_TIMEOUT_MS = 3000


def wait_for_kafka(factory, stopping: threading.Event):
    """Build a Kafka client, retrying while the broker is not reachable yet."""
    retrying = Retrying(
        retry=retry_if_exception_type((KafkaTimeoutError, KafkaConnectionError)),
        stop=stop_after_delay(KAFKA_STARTUP_PATIENCE_S) | (lambda state: stopping.is_set()),
        wait=wait_fixed(1),
        sleep=stopping.wait,
        reraise=True,
    )
    return retrying(factory)


def build_worker(settings: WorkerSettings, metrics: WorkerMetrics, stopping: threading.Event):
    producer = wait_for_kafka(lambda: make_producer(settings), stopping)
    listener = RebalanceListener(metrics)
    consumer = wait_for_kafka(lambda: make_consumer(settings, listener), stopping)
    listener.commits = commits = CommitTracker(consumer)
    pauses = Pauses({FLOOD_GUARD: metrics.flood_guard_tripped, SINK_DOWN: metrics.sink_down},
                    not_ready=lambda reasons: metrics.set_ready(False, reasons))
    processor = BatchProcessor(
        store=OrderStore(connect(settings.redis_url, settings.redis_timeout_seconds), settings.key_ttl_seconds),
        dead_letters=DeadLetterPublisher(producer, settings.dlq_topic, settings.group_id, settings.dlq_timeout_seconds),
        retry=RecordRetry(settings, stopping, on_retry=metrics.count_retry),
        guard=FloodGuard(settings.flood_guard_share, settings.flood_guard_window_seconds, settings.flood_guard_min_records),
        pauses=pauses,
        metrics=metrics,
        stopping=stopping,
        traces=StoreTraces(settings.group_id),
    )
    listener.outage = outage = SinkOutage(processor.finish, pauses, metrics, settings, stopping)
    return Worker(consumer, processor, outage, pauses, metrics, stopping, commits), producer


def freeze_startup_heap() -> None:
    """Keep the objects of start-up (modules, schemas, clients: ~70,000, alive as long as the process) out
    of every later full garbage collection. Each full collection traversed them for 30-40 ms, a stall
    that came several times per 100,000 records; now it visits only what the loop allocated since."""
    gc.collect()
    gc.freeze()


def run_worker(settings: WorkerSettings, stopping: threading.Event | None = None) -> int:
    configure_logging("platform-worker", level=settings.log_level)
    logging.getLogger("kafka").setLevel(logging.WARNING)  # its INFO lines narrate every connection
    tracing.configure_tracing("platform-worker")
    try:
        check_kafka(settings)
    except KafkaMisconfigured as error:
        log.error("kafka refuses the worker's connection settings; stopping", error=str(error))
        print(f"platform-worker: {error}", file=sys.stderr)
        return 2
    except KafkaUnreachable as error:
        log.warning("kafka unreachable at start-up; waiting for it", error=str(error))
    stopping = stopping or threading.Event()
    if threading.current_thread() is threading.main_thread():
        install_signal_handlers(stopping)
    metrics = WorkerMetrics()
    server = serve(metrics, settings.metrics_host, settings.metrics_port)
    log.info("worker starting", topic=settings.topic, group=settings.group_id, metrics_port=settings.metrics_port)
    try:
        worker, producer = build_worker(settings, metrics, stopping)
        freeze_startup_heap()
        try:
            worker.run()
        finally:
            worker.consumer.close(autocommit=False, timeout_ms=CLOSE_TIMEOUT_MS)
            producer.close(timeout=CLOSE_TIMEOUT_MS / 1000)
    finally:
        server.shutdown()
        tracing.shutdown()
    log.info("worker stopped")
    return 0
