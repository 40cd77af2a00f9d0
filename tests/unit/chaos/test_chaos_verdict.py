"""The checker's join and the summary's verdict, on plain values."""
from collections import Counter

from chaos.check import DatabaseView, TopicView, missing
from chaos.report import verdict


def test_a_paid_order_is_lost_only_when_neither_in_redis_nor_dead_lettered():
    db = DatabaseView(paid=frozenset({1, 2, 3, 4}), outbox_rows=4, outbox_published=4, outbox_orders=frozenset({1, 2, 3, 4}))
    dlq = TopicView(records=1, event_ids=Counter({"e3": 1}), orders=frozenset({3}))

    assert missing(db, frozenset({1, 2}), dlq) == {4}


def result(**changes):
    base = {"name": "kafka_outage", "lost": 0, "accepted_not_paid": 0, "all_delivered_s_after_load_end": 12.0,
            "success_rate": 1.0, "api_p99_ms": 40.0}
    return {**base, **changes}


def test_an_outage_passes_with_nothing_lost_full_success_and_p99_within_one_and_a_half_baselines():
    assert verdict(result(), baseline_p99=30.0) == "pass"


def test_an_outage_fails_on_a_refused_payment_or_a_slow_p99():
    assert "success" in verdict(result(success_rate=0.99), baseline_p99=30.0)
    assert "baseline" in verdict(result(api_p99_ms=46.0), baseline_p99=30.0)


def test_any_scenario_fails_when_something_is_lost_or_late():
    assert "1 lost" in verdict(result(name="relay_sigkill", lost=1), baseline_p99=None)
    assert "not all delivered" in verdict(result(all_delivered_s_after_load_end=None), baseline_p99=None)


def test_delivery_later_than_a_minute_after_the_load_fails():
    assert "not all delivered" in verdict(result(all_delivered_s_after_load_end=61.0), baseline_p99=None)


def test_a_redis_outage_fails_when_it_dead_lettered_anything():
    for name in ("redis_outage", "redis_oom"):
        assert "2 dead-lettered" in verdict(result(name=name, dead_lettered=2), baseline_p99=30.0)
        assert verdict(result(name=name, dead_lettered=0), baseline_p99=30.0) == "pass"
