"""OpenTelemetry traces for the three services: off unless `OTEL_TRACES_EXPORTER` names an exporter.

`configure_tracing` runs once at start-up (in each gunicorn worker for the API). It reads only the
standard `OTEL_*` variables, through the SDK itself where the SDK reads them (`OTEL_SERVICE_NAME`,
`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_EXPORTER_OTLP_*`, `OTEL_BSP_*`,
`OTEL_SPAN_*_LIMIT`). With no exporter the global tracer stays OpenTelemetry's no-op and `enabled()`
is False, so the relay and the worker skip their per-record span work altogether.

The trace context crosses the asynchronous hop as W3C `traceparent`/`tracestate` strings: written
into the outbox row's `headers` by the payment, sent as Kafka headers by the relay, read back by the
worker (`context_of`).
"""
import os
from importlib.metadata import entry_points
from typing import Iterable, Mapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
TRACE_HEADERS = (TRACEPARENT, TRACESTATE)
_EXPORTER_GROUP = "opentelemetry_traces_exporter"

_enabled = False


class TracingConfigError(ValueError):
    """`OTEL_TRACES_EXPORTER` (or the OTLP protocol) names something this installation cannot export to."""


def enabled() -> bool:
    return _enabled


def exporter_names(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The exporters `OTEL_TRACES_EXPORTER` asks for, as entry-point names; [] when traces are off."""
    names = [name.strip() for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if name.strip()]
    if names == ["none"] or not names:
        return []
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf"
    resolved = []
    for name in names:
        if name == "otlp":
            if protocol != "http/protobuf":
                raise TracingConfigError(f"OTLP protocol {protocol!r} is not installed; use http/protobuf")
            name = "otlp_proto_http"
        resolved.append(name)
    return resolved


def configure_tracing(service: str) -> bool:
    """Install the SDK's tracer provider when an exporter is configured; True if traces are on."""
    global _enabled
    names = exporter_names()
    if not names:
        return False
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporters = [_exporter_class(name)() for name in names]
    default_name = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service}
    provider = TracerProvider(resource=Resource.create(default_name))
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _enabled = True
    return True


def shutdown() -> None:
    """Export what is buffered (the batch processor's queue) before the process exits."""
    provider = trace.get_tracer_provider()
    if hasattr(provider, "shutdown"):
        provider.shutdown()


def _exporter_class(name: str):
    found = entry_points(group=_EXPORTER_GROUP, name=name)
    if not found:
        known = sorted(entry.name for entry in entry_points(group=_EXPORTER_GROUP))
        raise TracingConfigError(f"OTEL_TRACES_EXPORTER: no exporter {name!r} installed (known: {', '.join(known)})")
    return next(iter(found)).load()


def headers_of(context: Context | None = None) -> dict[str, str]:
    """`traceparent` (and `tracestate`) of `context`, or of the current one: {} outside any trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return {name: carrier[name] for name in TRACE_HEADERS if name in carrier}


def context_of(headers: Iterable[tuple[str, bytes]]) -> Context | None:
    """The trace context a Kafka record carries in its headers, or None when it carries none."""
    carrier = {name: value.decode("utf-8", "replace") for name, value in headers if name in TRACE_HEADERS and value}
    return propagate.extract(carrier) if TRACEPARENT in carrier else None


def span_ids(span: trace.Span | None = None) -> dict[str, str]:
    """`trace_id` and `span_id` of `span` (default: the current one) as hex, for log lines; {} if none."""
    context = (span or trace.get_current_span()).get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": format(context.trace_id, "032x"), "span_id": format(context.span_id, "016x")}
