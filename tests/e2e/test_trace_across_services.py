"""One payment's trace, followed across the asynchronous hop: the API's request span, the relay's
publish and the worker's store, exported by three processes over OTLP, chained by parent ids; the
trace context in the outbox row and the Kafka record; the trace id in the services' log lines."""
import json
import secrets

import pytest
import requests
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from sqlalchemy import text

from harness.shop import Shop
from harness.waiting import wait_for
from tests.e2e.test_payment_reaches_redis import stored_message
from tests.support.kafka import find_record, header

TRACE_ID = secrets.token_hex(16)
CALLER_SPAN_ID = secrets.token_hex(8)
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN_ID}-01"
TRACESTATE = "shop=checkout"


@pytest.fixture(scope="module")
def traced_payment(pipeline, redis_client, engine, otlp_receiver):
    shop = Shop(pipeline["api"], pipeline["admin_token"])
    user_id = shop.user_with_balance(50_000)
    option_id = shop.product(price=10_000, stock=3)["options"][0]["productOptionId"]
    order = shop.post("/api/orders", {"userId": user_id, "items": [{"productOptionId": option_id, "quantity": 1}]}, 201)
    response = requests.post(
        f"{pipeline['api']}/api/orders/{order['orderId']}/payment", json={"userId": user_id},
        headers={"traceparent": TRACEPARENT, "tracestate": TRACESTATE}, timeout=10,
    )
    assert response.status_code == 200, response.text
    stored_message(redis_client, order["orderId"])
    with engine.connect() as conn:
        headers = conn.execute(
            text("SELECT headers FROM outbox WHERE aggregateid = :id"), {"id": str(order["orderId"])}
        ).scalar_one()
    return {"order_id": order["orderId"], "outbox_headers": headers}


def spans_by_service(otlp_receiver, *services: str) -> dict:
    def all_there():
        spans = otlp_receiver.spans(TRACE_ID)
        found = {service: [span for span in spans if span.service == service] for service in services}
        return found if all(found.values()) else None

    return wait_for(all_there, timeout=30, interval=0.1, what=f"spans of {TRACE_ID} from {services}")


def test_the_outbox_row_carries_the_payment_requests_trace_context(traced_payment):
    traceparent = traced_payment["outbox_headers"]["traceparent"]
    version, trace_id, span_id, flags = traceparent.split("-")
    assert (version, trace_id, flags) == ("00", TRACE_ID, "01")
    assert span_id != CALLER_SPAN_ID  # the API's own span, a child of the caller's
    assert traced_payment["outbox_headers"]["tracestate"] == TRACESTATE


def test_the_kafka_record_carries_the_outbox_rows_trace_context(traced_payment, test_env):
    record = find_record(test_env.kafka_brokers, test_env.topic, str(traced_payment["order_id"]))
    assert header(record, "traceparent") == traced_payment["outbox_headers"]["traceparent"]
    assert header(record, "tracestate") == TRACESTATE


def test_three_processes_export_spans_of_the_one_trace_chained_by_parent(traced_payment, otlp_receiver, test_env):
    spans = spans_by_service(otlp_receiver, "order-api", "outbox-relay", "platform-worker")
    payment_span_id = traced_payment["outbox_headers"]["traceparent"].split("-")[2]
    server = [span for span in spans["order-api"] if span.kind == Span.SPAN_KIND_SERVER]
    assert [span.parent_span_id for span in server] == [CALLER_SPAN_ID]
    assert server[0].span_id == payment_span_id
    assert server[0].attributes["http.route"].endswith(":orderId>/payment")
    statements = [span for span in spans["order-api"] if span.attributes.get("db.system") == "postgresql"]
    assert statements and {span.parent_span_id for span in statements} == {payment_span_id}

    record = find_record(test_env.kafka_brokers, test_env.topic, str(traced_payment["order_id"]))
    (publish,) = spans["outbox-relay"]
    assert (publish.kind, publish.parent_span_id) == (Span.SPAN_KIND_PRODUCER, payment_span_id)
    assert publish.name == f"send {test_env.topic}"
    assert publish.attributes["messaging.system"] == "kafka"
    assert publish.attributes["messaging.destination.name"] == test_env.topic
    assert publish.attributes["messaging.destination.partition.id"] == str(record.partition)
    assert publish.attributes["messaging.kafka.offset"] == record.offset
    assert publish.attributes["messaging.kafka.message.key"] == str(traced_payment["order_id"])

    (store,) = spans["platform-worker"]
    assert (store.kind, store.parent_span_id) == (Span.SPAN_KIND_CONSUMER, payment_span_id)
    assert store.attributes["messaging.destination.partition.id"] == str(record.partition)
    assert store.attributes["messaging.kafka.offset"] == record.offset
    assert store.attributes["messaging.consumer.group.name"] == test_env.group_id
    assert store.attributes["redis.key"] == f"data:order:processed:{traced_payment['order_id']}"


def log_lines_with(path, trace_id: str) -> list[dict]:
    lines = []
    for line in path.read_text(errors="replace").splitlines():
        if trace_id in line and line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.mark.parametrize("service, event", [
    ("order-api", "request"),
    ("outbox-relay", "relay.event_published"),
    ("platform-worker", "worker.order_stored"),
])
def test_each_services_log_line_for_the_payment_carries_the_trace_id(traced_payment, pipeline, otlp_receiver, service, event):
    spans = spans_by_service(otlp_receiver, service)[service]
    lines = wait_for(
        lambda: [line for line in log_lines_with(pipeline["logs"][service], TRACE_ID) if line["event"] == event],
        timeout=30, what=f"{service} log line {event} with the trace id",
    )
    assert all(line["trace_id"] == TRACE_ID for line in lines)
    assert {line["span_id"] for line in lines} <= {span.span_id for span in spans}
    if service != "order-api":
        assert [str(line["order_id"]) for line in lines] == [str(traced_payment["order_id"])]
