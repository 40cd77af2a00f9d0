"""The relay's part of a payment's trace: one PRODUCER span per published event, child of the
payment's context that the outbox row's `headers` carry, written after the broker acknowledged it.

Only with traces on (common/tracing.py) and only for rows that carry a `traceparent`; otherwise
nothing here runs. The span runs from the batch's send to the acknowledgement and names the
record's topic, partition, offset and key (OpenTelemetry's messaging conventions). Its log line
carries the trace's ids, so a grep of one trace id finds the payment, this publish and the store.
"""
import structlog
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from common import tracing
from outbox_relay.claim import ClaimedRow

log = structlog.get_logger("outbox_relay")
_tracer = trace.get_tracer("outbox_relay")


def record_publish_spans(
    acked: list[ClaimedRow], sent: list[tuple[ClaimedRow, object]], acked_at: float, duration: float
) -> None:
    if not tracing.enabled():
        return
    futures = {row.id: future for row, future in sent}
    end_ns = int(acked_at * 1e9)
    start_ns = end_ns - int(duration * 1e9)
    for row in acked:
        if tracing.TRACEPARENT not in row.headers:
            continue
        metadata = getattr(futures.get(row.id), "value", None)
        _publish_span(row, metadata, start_ns, end_ns)


def _publish_span(row: ClaimedRow, metadata, start_ns: int, end_ns: int) -> None:
    attributes = {
        "messaging.system": "kafka",
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
        "messaging.destination.name": row.topic,
        "messaging.kafka.message.key": row.aggregateid,
        "messaging.message.id": row.event_id,
        "outbox.id": row.id,
    }
    if metadata is not None:
        attributes["messaging.destination.partition.id"] = str(metadata.partition)
        attributes["messaging.kafka.offset"] = metadata.offset
    parent = propagate.extract(row.extra_headers())
    span = _tracer.start_span(
        f"send {row.topic}", context=parent, kind=SpanKind.PRODUCER, attributes=attributes, start_time=start_ns
    )
    span.end(end_time=end_ns)
    log.info(
        "relay.event_published", outbox_id=row.id, order_id=row.aggregateid, topic=row.topic,
        partition=attributes.get("messaging.destination.partition.id"),
        offset=attributes.get("messaging.kafka.offset"), **tracing.span_ids(span),
    )
