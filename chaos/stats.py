"""What the load saw: payment attempts, answers by status and code, latency percentiles."""
from collections import Counter

from harness.load import Outcome
from harness.stats import percentiles


def summarise_load(outcomes: list[Outcome], window: tuple[float | None, float | None]) -> dict:
    payments = [o for o in outcomes if o.detail.get("stage") == "payment"]
    orders_refused = Counter(o.code or str(o.status) for o in outcomes if o.detail.get("stage") != "payment")
    refused = Counter(o.code for o in payments if o.status != 200)
    latencies = [o.detail["payment_ms"] for o in payments]
    start, end = window
    during = [o.detail["payment_ms"] for o in payments if start is not None and start <= o.scheduled <= end]
    accepted = sum(1 for o in payments if o.status == 200)
    overall, in_fault = percentiles(latencies), percentiles(during)
    return {
        "purchases": len(outcomes),
        "orders_refused_by_code": dict(orders_refused),
        "payment_attempts": len(payments),
        "accepted": accepted,
        "refused_by_code": dict(refused),
        "success_rate": round(accepted / len(payments), 4) if payments else None,
        "api_p50_ms": overall["p50"], "api_p95_ms": overall["p95"], "api_p99_ms": overall["p99"],
        "api_max_ms": overall["max"],
        "api_p99_during_fault_ms": in_fault["p99"],
    }
