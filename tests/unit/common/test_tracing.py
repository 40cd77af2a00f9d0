"""Trace settings and the W3C context carried from the outbox row to the Kafka record (no I/O)."""
import pytest
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

from common import tracing

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
SPAN_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{SPAN_ID}-01"


@pytest.mark.parametrize("value", ["", "none", " none "])
def test_traces_are_off_without_an_exporter(value):
    assert tracing.exporter_names({"OTEL_TRACES_EXPORTER": value}) == []
    assert tracing.exporter_names({}) == []


def test_otlp_means_the_installed_http_exporter():
    assert tracing.exporter_names({"OTEL_TRACES_EXPORTER": "otlp"}) == ["otlp_proto_http"]
    assert tracing.exporter_names({"OTEL_TRACES_EXPORTER": "otlp, console"}) == ["otlp_proto_http", "console"]


def test_the_grpc_protocol_is_refused_with_a_reason():
    with pytest.raises(tracing.TracingConfigError, match="grpc"):
        tracing.exporter_names({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})


def test_an_unknown_exporter_is_refused_naming_the_known_ones(monkeypatch):
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(tracing.TracingConfigError, match="no exporter 'zipkin'.*console"):
        tracing.configure_tracing("test")
    assert not tracing.enabled()


def remote_context(sampled: bool = True) -> Context:
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
    span = NonRecordingSpan(SpanContext(int(TRACE_ID, 16), int(SPAN_ID, 16), is_remote=True, trace_flags=flags))
    return set_span_in_context(span)


def test_the_headers_of_a_context_are_its_traceparent():
    assert tracing.headers_of(remote_context()) == {"traceparent": TRACEPARENT}


def test_outside_any_trace_there_are_no_headers():
    assert tracing.headers_of() == {}
    assert tracing.span_ids() == {}


def test_a_records_headers_give_back_the_context_they_carry():
    context = tracing.context_of([("event_id", b"x"), ("traceparent", TRACEPARENT.encode()), ("tracestate", b"shop=1")])
    assert tracing.headers_of(context) == {"traceparent": TRACEPARENT, "tracestate": "shop=1"}


@pytest.mark.parametrize("headers", [[], [("event_id", b"x")], [("traceparent", b"")]])
def test_a_record_without_a_traceparent_has_no_context(headers):
    assert tracing.context_of(headers) is None


def test_a_malformed_traceparent_gives_no_trace():
    context = tracing.context_of([("traceparent", b"00-not-a-trace-01")])
    assert tracing.headers_of(context) == {}


def test_span_ids_are_lowercase_hex_of_fixed_width():
    span = NonRecordingSpan(SpanContext(1, 2, is_remote=False, trace_flags=TraceFlags(1)))
    assert tracing.span_ids(span) == {"trace_id": "0" * 31 + "1", "span_id": "0" * 15 + "2"}
