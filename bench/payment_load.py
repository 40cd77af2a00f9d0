"""The payment endpoint under open-loop load at fixed arrival rates.

Every tick pays one fresh payable order (see dataset.py), so each request is a full payment
transaction. Latency is measured from the tick's scheduled time (harness.load), so a slow answer
delays nothing else and queueing in the client counts. Throughput is successful payments over the
time from the first scheduled send to the last answer.
"""
import time

from harness.load import Client, OpenLoop, Outcome, error_code
from harness.stats import percentiles

PAYMENT_TIMEOUT_S = 15.0


def pay_action(orders: list[tuple[int, int]]):
    def action(tick: int, client: Client) -> tuple[int, str | None, dict]:
        order_id, user_id = orders[tick]
        status, body = client.post(f"/api/orders/{order_id}/payment", {"userId": user_id})
        return status, error_code(status, body), {"order_id": order_id, "paid_at": body.get("paidAt"), "answered_at": time.time()}

    return action


def summarise(outcomes: list[Outcome], rate: float, planned: int | None = None) -> dict:
    ok = [o for o in outcomes if o.status == 200]
    not_sent = (planned or len(outcomes)) - len(outcomes)
    span = max((o.ended for o in outcomes), default=0.0)
    errors: dict[str, int] = {}
    for o in outcomes:
        if o.status != 200:
            errors[o.code] = errors.get(o.code, 0) + 1
    latency = percentiles([o.latency_ms for o in outcomes])
    return {
        "offered_per_s": rate,
        "requests": len(outcomes),
        "not_sent": not_sent,
        "throughput_per_s": round(len(ok) / span, 1) if span else 0.0,
        "success_rate": round(len(ok) / (len(outcomes) + not_sent), 4) if outcomes else None,
        "error_rate": round(1 - len(ok) / (len(outcomes) + not_sent), 4) if outcomes else None,
        "errors": errors,
        **{f"{k}_ms": v for k, v in latency.items()},
        "service_p99_ms": percentiles([o.service_ms for o in outcomes])["p99"],
    }


def measure(port: int, orders: list[tuple[int, int]], rate: float, duration_s: float, threads: int = 64) -> tuple[dict, list[Outcome]]:
    """One run: pays `rate * duration_s` of `orders` (which must hold that many unpaid orders).

    A saturated server would stretch the run far past `duration_s`; no tick starts after 3x that
    (plus 10 s): those not sent count as failures."""
    loop = OpenLoop(rate=rate, duration_s=duration_s, threads=threads, port=port, timeout_s=PAYMENT_TIMEOUT_S,
                    give_up_s=duration_s * 3 + 10)
    if loop.total > len(orders):
        raise ValueError(f"{loop.total} payments planned, {len(orders)} payable orders given")
    outcomes = loop.run(pay_action(orders))
    return summarise(outcomes, rate, loop.total), outcomes




def run(rates=(100.0, 300.0, 600.0, 1000.0), duration_s: float = 10.0, repeats: int = 3, infra=None) -> dict:
    """The API (order-api, default workers and threads) on a database of its own, every rate `repeats` times."""
    from bench.dataset import payable_orders
    from harness.pipeline import RUN_LOGS
    from harness.provision import Infrastructure, drop, provision
    from harness.services import ServiceProcess, free_port
    from harness.stats import median_spread

    infra = infra or Infrastructure.from_environment()
    run_ = provision(infra, "bench_api")
    port = free_port()
    api = ServiceProcess("order-api", {**run_.service_env(infra, infra.brokers), "API_PORT": str(port)},
                         f"http://127.0.0.1:{port}/readyz", log_path=RUN_LOGS / f"bench-api-{run_.run_id}.log")
    runs: dict[str, list[dict]] = {str(int(rate)): [] for rate in rates}
    try:
        orders = payable_orders(run_.database_url, int(sum(rates) * duration_s * repeats) + 10)
        api.start()
        used = 0
        for _ in range(repeats):  # interleaved, so a noisy minute does not hit one rate only
            for rate in rates:
                count = int(rate * duration_s)
                runs[str(int(rate))].append(measure(port, orders[used:used + count], rate, duration_s)[0])
                used += count
    finally:
        api.stop(timeout=20.0)
        drop(infra, run_)
    keys = ("throughput_per_s", "p50_ms", "p95_ms", "p99_ms", "error_rate")
    return {"duration_s": duration_s, "repeats": repeats,
            "rates": {rate: {"summary": {k: median_spread(r, k) for k in keys}, "runs": r} for rate, r in runs.items()}}
