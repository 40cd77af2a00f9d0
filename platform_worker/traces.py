"""The worker's part of a payment's trace: one CONSUMER span per stored record, child of the payment's
context that the record's `traceparent` header carries, from the batch's write to Redis' answer.

Only with traces on (common/tracing.py) and only for records that carry a `traceparent`; otherwise
nothing here runs. The span names the topic, partition, offset, key and consumer group
(OpenTelemetry's messaging conventions) and the Redis key; its log line carries the trace's ids.
"""
import time

import structlog
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from common import tracing
from platform_worker.store import redis_key

log = structlog.get_logger("platform_worker")
_tracer = trace.get_tracer("platform_worker")


class StoreTraces:
    def __init__(self, group_id: str):
        self.group_id = group_id

    def started(self) -> int:
        return time.time_ns() if tracing.enabled() else 0

    def stored(self, stored: list, started_ns: int) -> None:
        """`stored`: (ConsumerRecord, OrderRecord) pairs now in Redis."""
        if not tracing.enabled():
            return
        end_ns = time.time_ns()
        for record, order in stored:
            parent = tracing.context_of(record.headers or ())
            if parent is not None:
                self._span(record, order.order_id, parent, started_ns, end_ns)

    def _span(self, record, order_id: int, parent, start_ns: int, end_ns: int) -> None:
        attributes = {
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.operation.name": "process",
            "messaging.destination.name": record.topic,
            "messaging.destination.partition.id": str(record.partition),
            "messaging.kafka.offset": record.offset,
            "messaging.kafka.message.key": (record.key or b"").decode("utf-8", "replace"),
            "messaging.consumer.group.name": self.group_id,
            "db.system.name": "redis",
            "db.operation.name": "SET",
            "redis.key": redis_key(order_id),
        }
        span = _tracer.start_span(
            f"process {record.topic}", context=parent, kind=SpanKind.CONSUMER,
            attributes=attributes, start_time=start_ns,
        )
        span.end(end_time=end_ns)
        log.info("worker.order_stored", order_id=order_id, topic=record.topic, partition=record.partition,
                 offset=record.offset, **tracing.span_ids(span))
