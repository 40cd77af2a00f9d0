"""The steady load of a chaos run: at a fixed rate, place an order and pay it, from several threads.

Each tick is one customer's purchase: POST /api/orders, then (if placed) POST .../payment with an
Idempotency-Key. The outcome records the payment's status and code, or the order's when placing
failed (stage "order"); `payment_ms` is the payment request's own latency.
"""
import http.client
import time
import uuid
from dataclasses import dataclass

from harness.load import Client, OpenLoop, Outcome, error_code


@dataclass(frozen=True)
class Customers:
    users: list[int]
    options: list[int]


def purchase(customers: Customers):
    def action(tick: int, client: Client) -> tuple[int, str | None, dict]:
        user_id = customers.users[tick % len(customers.users)]
        option_id = customers.options[tick % len(customers.options)]
        status, body = client.post("/api/orders", {"userId": user_id, "items": [{"productOptionId": option_id, "quantity": 1}]})
        if status != 201:
            return status, error_code(status, body), {"stage": "order"}
        order_id = body["orderId"]
        sent = time.perf_counter()
        detail = {"stage": "payment", "order_id": order_id}
        try:
            status, body = client.post(
                f"/api/orders/{order_id}/payment", {"userId": user_id}, {"Idempotency-Key": uuid.uuid4().hex}
            )
        except (OSError, http.client.HTTPException) as error:  # no answer: the payment may or may not have committed
            return 0, type(error).__name__, {**detail, "payment_ms": (time.perf_counter() - sent) * 1000}
        return status, error_code(status, body), {**detail, "payment_ms": (time.perf_counter() - sent) * 1000}

    return action


def drive(port: int, customers: Customers, *, rate: float, duration_s: float, threads: int, stop=None) -> list[Outcome]:
    loop = OpenLoop(rate=rate, duration_s=duration_s, threads=threads, port=port, timeout_s=20.0)
    return loop.run(purchase(customers), stop)
