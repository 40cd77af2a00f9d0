"""What the chaos load saw, summarised: accepted, refused by code, latency inside the fault window."""
from chaos.stats import summarise_load
from harness.load import Outcome


def paid(tick, at, ms, status=200, code=None):
    return Outcome(tick, at, at, at + ms / 1000, status, code, {"stage": "payment", "order_id": tick, "payment_ms": ms})


def test_counts_accepted_and_refused_payments_by_code():
    outcomes = [paid(0, 0.0, 5), paid(1, 0.1, 7, 409, "ALREADY_PAID"), paid(2, 0.2, 9, 0, "ConnectionResetError")]

    summary = summarise_load(outcomes, (None, None))

    assert summary["payment_attempts"] == 3
    assert summary["accepted"] == 1
    assert summary["refused_by_code"] == {"ALREADY_PAID": 1, "ConnectionResetError": 1}
    assert summary["success_rate"] == round(1 / 3, 4)


def test_orders_that_could_not_be_placed_are_not_payment_attempts():
    refused_order = Outcome(0, 0.0, 0.0, 0.01, 503, "SERVICE_UNAVAILABLE", {"stage": "order"})

    summary = summarise_load([refused_order, paid(1, 0.1, 5)], (None, None))

    assert summary["orders_refused_by_code"] == {"SERVICE_UNAVAILABLE": 1}
    assert summary["payment_attempts"] == 1 and summary["success_rate"] == 1.0


def test_the_fault_window_p99_only_counts_payments_scheduled_inside_it():
    outcomes = [paid(0, 0.5, 1000), paid(1, 2.0, 10), paid(2, 3.0, 20)]

    summary = summarise_load(outcomes, (1.0, 4.0))

    assert summary["api_p99_during_fault_ms"] <= 20
    assert summary["api_p99_ms"] > 900
