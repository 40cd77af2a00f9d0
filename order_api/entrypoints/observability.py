"""Request ids, one JSON log line per request, and Prometheus metrics.

Every response carries `X-Request-ID` (the client's, if it sent a sane one, else a new one), and
every log line of the request is bound to it. Metrics work across gunicorn workers when
PROMETHEUS_MULTIPROC_DIR is set (the `order-api` CLI sets it), else in-process.
"""
import os
import re
import time
import uuid

import structlog
from flask import Flask, Response, g, request
from opentelemetry import propagate
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY

from common import tracing

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
RULE_ARGUMENT = re.compile(r"<(?:[^:>]+:)?([^>]+)>")

REQUESTS = Counter(
    "api_http_requests_total", "HTTP requests answered", ["method", "endpoint", "status"]
)
LATENCY = Histogram(
    "api_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "endpoint", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PAYMENTS = Counter("api_payments_total", "Payment attempts by result (PAID, REPLAYED or an error code)", ["result"])

log = structlog.get_logger()


def request_id(offered: str | None = None) -> str:
    """The client's id if it is sane, else a new one; `offered` defaults to the current request's header."""
    offered = request.headers.get(REQUEST_ID_HEADER, "") if offered is None else offered
    return offered if SANE_REQUEST_ID.match(offered) else uuid.uuid4().hex


def start_request() -> None:
    g.started = time.perf_counter()
    g.request_id = request_id()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service="order-api", request_id=g.request_id)


def finish_request(response: Response) -> Response:
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    endpoint = RULE_ARGUMENT.sub(r"{\1}", request.url_rule.rule) if request.url_rule else "unmatched"
    status = str(response.status_code)
    REQUESTS.labels(request.method, endpoint, status).inc()
    LATENCY.labels(request.method, endpoint, status).observe(elapsed)
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or request_id()
    log.info("request", method=request.method, path=request.path, status=response.status_code,
             duration_ms=round(elapsed * 1000, 2))
    return response


def trace_headers() -> dict[str, str]:
    """The trace context this request's event carries on: its server span with traces on, else the
    caller's `traceparent` (and `tracestate`) as they came; {} when there is neither."""
    return tracing.headers_of(None if tracing.enabled() else propagate.extract(request.headers))


def count_payment(result: str) -> None:
    PAYMENTS.labels(result).inc()


def metrics_text() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def install(app: Flask) -> None:
    app.before_request(start_request)
    app.after_request(finish_request)
