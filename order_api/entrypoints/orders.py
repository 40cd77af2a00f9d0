"""HTTP: placing, showing and paying orders.

A payment and its idempotency record share one transaction: the stored answer exists only if the
payment committed, and a replay returns it byte for byte without touching anything else.
"""
from datetime import timedelta

from flask import jsonify, request
from order_api.entrypoints.blueprint import Blueprint

from order_api.domain import errors
from order_api.entrypoints import schemas as s, views as v
from order_api.entrypoints.context import settings, transaction, utc_now
from order_api.entrypoints.observability import count_payment, trace_headers
from order_api.service_layer import idempotency, orders
from order_api.service_layer.payment import PayOrder, pay

blp = Blueprint("orders", __name__, url_prefix="/api/orders", description="Orders and payment")

PAYMENT_CONFLICTS = "INSUFFICIENT_BALANCE, ORDER_EXPIRED, ALREADY_PAID, INVALID_COUPON, IDEMPOTENCY_KEY_REUSED"
PAYMENT_RESPONSE = v.PaymentResponse()  # built once: marshmallow schemas are reusable and costly to build


@blp.route("", methods=["POST"])
@blp.arguments(s.PlaceOrderRequest())
@blp.response(201, v.OrderResponse())
@blp.alt_response(404, schema=v.ErrorResponse, description="USER_NOT_FOUND, PRODUCT_OPTION_NOT_FOUND")
@blp.alt_response(409, schema=v.ErrorResponse, description="INSUFFICIENT_STOCK")
def place_order(body):
    lines = [orders.OrderLine(i["productOptionId"], i["quantity"]) for i in body["items"]]
    now, ttl = utc_now(), settings().order_ttl_seconds
    return transaction(
        lambda session: orders.place_order(session, user_id=body["userId"], lines=lines, ttl_seconds=ttl, now=now)
    )


@blp.route("/<id(order):orderId>", methods=["GET"])
@blp.response(200, v.OrderResponse())
@blp.alt_response(404, schema=v.ErrorResponse, description="ORDER_NOT_FOUND")
def show_order(orderId: int):
    now = utc_now()
    return transaction(lambda session: orders.show_order(session, orderId, now))


@blp.route("/<id(order):orderId>/payment", methods=["POST"])
@blp.arguments(s.IdempotencyHeaders(), location="headers")
@blp.arguments(s.PaymentRequest())
@blp.response(200, v.PaymentResponse())
@blp.alt_response(403, schema=v.ErrorResponse, description="FORBIDDEN")
@blp.alt_response(404, schema=v.ErrorResponse, description="ORDER_NOT_FOUND, USER_NOT_FOUND, COUPON_NOT_FOUND")
@blp.alt_response(409, schema=v.ErrorResponse, description=PAYMENT_CONFLICTS)
def pay_order(headers, body, orderId: int):
    command = PayOrder(order_id=orderId, user_id=body["userId"], coupon_id=body["couponId"])
    key = headers.get("idempotency_key")
    try:
        status, answer, replayed = transaction(lambda session: _pay(session, command, key))
    except errors.ApiError as error:
        count_payment(error.code)
        raise
    count_payment("REPLAYED" if replayed else "PAID")
    response = jsonify(answer)
    response.status_code = status
    return response


def _pay(session, command: PayOrder, key: str | None):
    now, config = utc_now(), settings()
    if key is not None:
        request_hash = idempotency.fingerprint("POST", request.path, {"userId": command.user_id, "couponId": command.coupon_id})
        ttl = timedelta(hours=config.idempotency_ttl_hours)
        stored = idempotency.claim(session, key=key, request_hash=request_hash, ttl=ttl, now=now)
        if stored is not None:
            return stored.status, stored.body, True
    answer = PAYMENT_RESPONSE.dump(
        pay(session, command, topic=config.order_processed_topic, now=now, event_headers=trace_headers())
    )
    if key is not None:
        idempotency.record(session, key=key, status=200, body=answer)
    return 200, answer, False
