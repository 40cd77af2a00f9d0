"""The payment endpoint under open-loop load at fixed arrival rates.

Every tick pays one fresh payable order (see dataset.py), so each request is a full payment
transaction. Latency is measured from the tick's scheduled time (bench.loadgen), so a slow answer
delays nothing else and queueing in the client counts. Throughput is successful payments over the
time from the first scheduled send to the last answer.
"""
from bench.loadgen import Client, OpenLoop, Outcome, error_code
from bench.stats import percentiles

PAYMENT_TIMEOUT_S = 15.0


def pay_action(orders: list[tuple[int, int]]):
    def action(tick: int, client: Client) -> tuple[int, str | None, dict]:
        order_id, user_id = orders[tick]
        status, body = client.post(f"/api/orders/{order_id}/payment", {"userId": user_id})
        return status, error_code(status, body), {"order_id": order_id, "paid_at": body.get("paidAt")}

    return action


def summarise(outcomes: list[Outcome], rate: float) -> dict:
    ok = [o for o in outcomes if o.status == 200]
    span = max((o.ended for o in outcomes), default=0.0)
    errors: dict[str, int] = {}
    for o in outcomes:
        if o.status != 200:
            errors[o.code] = errors.get(o.code, 0) + 1
    latency = percentiles([o.latency_ms for o in outcomes])
    return {
        "offered_per_s": rate,
        "requests": len(outcomes),
        "throughput_per_s": round(len(ok) / span, 1) if span else 0.0,
        "success_rate": round(len(ok) / len(outcomes), 4) if outcomes else None,
        "error_rate": round(1 - len(ok) / len(outcomes), 4) if outcomes else None,
        "errors": errors,
        **{f"{k}_ms": v for k, v in latency.items()},
        "service_p99_ms": percentiles([o.service_ms for o in outcomes])["p99"],
    }


def measure(port: int, orders: list[tuple[int, int]], rate: float, duration_s: float, threads: int = 64) -> tuple[dict, list[Outcome]]:
    """One run: pays `rate * duration_s` of `orders` (which must hold that many unpaid orders)."""
    loop = OpenLoop(rate=rate, duration_s=duration_s, threads=threads, port=port, timeout_s=PAYMENT_TIMEOUT_S)
    if loop.total > len(orders):
        raise ValueError(f"{loop.total} payments planned, {len(orders)} payable orders given")
    outcomes = loop.run(pay_action(orders))
    return summarise(outcomes, rate), outcomes


