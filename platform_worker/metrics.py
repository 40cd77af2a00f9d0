"""Prometheus metrics and the health endpoints on WORKER_METRICS_PORT.

`/metrics` answers 200 while the process lives (the stack's health check); `/readyz` answers 200
only while the worker is in its group and consuming, 503 with the reason otherwise (the sink is down,
the flood guard tripped, a rebalance is under way, the worker stops).
"""
import threading
from bisect import bisect_right
from collections import Counter as Tally
from functools import partial
from math import fsum
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, ProcessCollector, make_wsgi_app
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.exposition import ThreadingWSGIServer

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.records = Counter(
            "worker_records", "Records handled, by result: stored, retried, dead_lettered",
            ["result"], registry=self.registry,
        )
        self.dead_lettered = Counter(
            "worker_dead_lettered_records", "Records sent to the dead-letter topic, by error class",
            ["error_class"], registry=self.registry,
        )
        self.retry_attempts = Counter(
            "worker_retry_attempts", "Writes again of records Redis refused on their own", registry=self.registry
        )
        self.lag = Gauge(
            "worker_consumer_lag", "Records behind the partition's end", ["topic", "partition"], registry=self.registry
        )
        self.lag_seconds = Gauge(
            "worker_consumer_lag_seconds", "Age of the oldest record polled and not yet stored or dead-lettered",
            ["topic", "partition"], registry=self.registry,
        )
        self.latency = BatchHistogram(
            "worker_end_to_end_latency_seconds", "Redis write time minus the message's processedAt", LATENCY_BUCKETS
        )
        self.registry.register(self.latency)
        self.assigned = Gauge("worker_assigned_partitions", "Partitions this worker owns", registry=self.registry)
        self.generation = Gauge(
            "worker_group_generation", "Generation of the consumer group this member is in (it grows with each rebalance)",
            registry=self.registry,
        )
        self.ready = Gauge("worker_ready", "1 while the worker is in its group and consuming", registry=self.registry)
        self.flood_guard_tripped = Gauge(
            "worker_flood_guard_tripped", "1 once the flood guard stopped the worker", registry=self.registry
        )
        self.sink_down = Gauge(
            "worker_sink_down", "1 while Redis cannot take writes and the worker holds its batch", registry=self.registry
        )
        self.sink_down_seconds = Counter(
            "worker_sink_down_seconds", "Time spent waiting for Redis during sink outages", registry=self.registry
        )
        self.partition_changes = Counter(
            "worker_partition_changes", "Partitions assigned, revoked or lost in rebalances",
            ["event"], registry=self.registry,
        )
        for event in ("assigned", "revoked", "lost"):
            self.partition_changes.labels(event)
        for result in ("stored", "retried", "dead_lettered"):
            self.records.labels(result)

        self._ready = False
        self._not_ready_because = "starting"

    def set_ready(self, ready: bool, reason: str = "") -> None:
        self._ready, self._not_ready_because = ready, reason
        self.ready.set(1 if ready else 0)

    def is_ready(self) -> bool:
        return self._ready

    def not_ready_because(self) -> str:
        return self._not_ready_because

    def count_retry(self, records: int) -> None:
        self.retry_attempts.inc()
        self.records.labels("retried").inc(records)


class BatchHistogram(Collector):
    """A Prometheus histogram fed a batch at a time: one lock per batch instead of per record."""

    def __init__(self, name: str, documentation: str, buckets: tuple[float, ...]):
        self.name = name
        self.documentation = documentation
        self.bounds = list(buckets)
        self._counts = [0] * (len(buckets) + 1)  # the last one is +Inf
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe_ages(self, now: float, moments: list[float]) -> None:
        """Observe `now - moment` for each moment (0 for one in the future) without a list of ages.

        An age falls in bucket i when exactly i bounds lie below it, that is when i of the moments
        `now - bound` lie after the moment: bisecting those finds the bucket, in C, for the whole batch.
        """
        if not moments:
            return
        thresholds = [now - bound for bound in reversed(self.bounds)]  # ascending
        top = len(self.bounds)
        at_or_before = Tally(map(partial(bisect_right, thresholds), moments))
        total = len(moments) * now - fsum(moments)
        if max(moments) > now:  # ages below zero count as zero, in the sum too
            total += fsum(moment - now for moment in moments if moment > now)
        self._add({top - k: count for k, count in at_or_before.items()}, total)

    def _add(self, counts: dict[int, int], total: float) -> None:
        with self._lock:
            for bucket, count in counts.items():
                self._counts[bucket] += count
            self._sum += total

    def collect(self):
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative, buckets = 0, []
        for bound, count in zip([*map(str, self.bounds), "+Inf"], counts):
            cumulative += count
            buckets.append((bound, cumulative))
        yield HistogramMetricFamily(self.name, self.documentation, buckets=buckets, sum_value=total)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # access logs would drown the worker's own
        pass


def serve(metrics: WorkerMetrics, host: str, port: int) -> ThreadingWSGIServer:
    """Start the HTTP endpoints on a daemon thread; returns the server (call `.shutdown()` to stop)."""
    prometheus_app = make_wsgi_app(metrics.registry)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "/")
        if path == "/readyz":
            ok = metrics.is_ready()
            start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"ready\n" if ok else f"not ready: {metrics.not_ready_because()}\n".encode()]
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        return prometheus_app(environ, start_response)

    server = make_server(host, port, app, ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server
