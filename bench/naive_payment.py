"""Benchmark only, never the product: the payment endpoint built the naive way (a dual write).

The same payment transaction as order_api (its service layer: the order, balance, balance log,
stock and coupon, all in one transaction) but WITHOUT the outbox row; after the commit the request
publishes `order.processed` to Kafka synchronously (acks=all, idempotence on) and answers only once
the broker acknowledged. If the publish fails the payment is committed but its event is lost, and
the client gets 502 PUBLISH_FAILED: exactly what the transactional outbox removes.

Served like the API (gunicorn, gthread, same worker and thread counts):

    python -m bench.naive_payment      # API_PORT, DATABASE_URL, KAFKA_BROKERS, API_ORDER_PROCESSED_TOPIC

With BENCH_NAIVE_PUBLISH=false it publishes nothing either: the payment transaction alone, without
the outbox row, for what the outbox row costs a payment (bench/payment_cost.py).
"""
import os
from datetime import datetime, timezone

from flask import Flask, jsonify, request
from gunicorn.app.base import BaseApplication
from kafka import KafkaProducer
from kafka.errors import KafkaError
from sqlalchemy.orm import Session

from common.kafka_connection import KafkaConnection
from common.order_processed import EVENT_TYPE
from order_api.adapters.database import engine_for, in_transaction, session_factory
from order_api.config import Settings
from order_api.domain import errors
from order_api.entrypoints.cli import gunicorn_options
from order_api.entrypoints.views import PaymentResponse
from order_api.service_layer.payment import PayOrder, Settlement, order_processed, settle

TIMEOUT_MS = 5000  # the relay's request, delivery and blocking timeouts are 5-10 s


def pay_without_outbox(session: Session, command: PayOrder, now: datetime) -> tuple[Settlement, bytes]:
    """order_api.service_layer.payment.pay, minus the outbox row; returns the settlement and the message."""
    settled = settle(session, command, now)
    return settled, order_processed(settled).model_dump_json().encode()


def make_producer(settings: Settings) -> KafkaProducer:
    return KafkaProducer(
        **KafkaConnection().client_options(), acks="all",
        enable_idempotence=True, linger_ms=0, request_timeout_ms=TIMEOUT_MS, delivery_timeout_ms=TIMEOUT_MS,
        max_block_ms=TIMEOUT_MS, bootstrap_timeout_ms=TIMEOUT_MS, allow_auto_create_topics=False,
    )


def create_app(settings: Settings, publish: bool = True) -> Flask:
    app = Flask(__name__)
    engine = engine_for(settings)
    sessions = session_factory(engine)
    producer = make_producer(settings) if publish else None

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.post("/api/orders/<int:order_id>/payment")
    def pay(order_id: int):
        body = request.get_json()
        command = PayOrder(order_id=order_id, user_id=body["userId"], coupon_id=body.get("couponId"))
        now = datetime.now(timezone.utc)
        try:
            answer, message = in_transaction(sessions, lambda session: pay_without_outbox(session, command, now))
        except errors.ApiError as error:
            return jsonify({"error": {"code": error.code, "message": str(error)}}), error.status
        if producer is None:
            return jsonify(PaymentResponse().dump(answer))
        headers = [("event_type", EVENT_TYPE.encode()), ("content-type", b"application/json")]
        try:
            producer.send(settings.order_processed_topic, key=str(order_id).encode(), value=message, headers=headers).get(
                timeout=TIMEOUT_MS / 1000 + 1
            )
        except KafkaError as error:  # committed, but the event is gone: the dual-write failure
            return jsonify({"error": {"code": "PUBLISH_FAILED", "message": type(error).__name__}}), 502
        return jsonify(PaymentResponse().dump(answer))

    return app


class NaiveServer(BaseApplication):
    def __init__(self, settings: Settings):
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        options = gunicorn_options(self.settings)
        for name in ("bind", "workers", "worker_class", "threads", "timeout", "graceful_timeout", "keepalive", "backlog"):
            self.cfg.set(name, options[name])

    def load(self):
        return create_app(self.settings, os.environ.get("BENCH_NAIVE_PUBLISH", "true").lower() != "false")


def main() -> None:
    NaiveServer(Settings()).run()


if __name__ == "__main__":
    main()
