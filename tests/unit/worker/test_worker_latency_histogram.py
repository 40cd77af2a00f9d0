from bisect import bisect_left
from itertools import accumulate

import pytest
from hypothesis import given, settings, strategies as st
from prometheus_client import CollectorRegistry

from platform_worker.metrics import LATENCY_BUCKETS, BatchHistogram


def histogram_in_registry(bounds):
    registry = CollectorRegistry()
    histogram = BatchHistogram("latency_seconds", "test", bounds)
    registry.register(histogram)
    return histogram, registry


def test_the_ages_of_a_batch_land_in_cumulative_buckets_with_count_and_sum():
    histogram, registry = histogram_in_registry((0.01, 0.1, 1))
    histogram.observe_ages(100.0, [99.999, 99.99, 99.98, 95.0])
    histogram.observe_ages(100.0, [])
    histogram.observe_ages(200.0, [199.5, 200.25])  # a moment in the future counts as age 0

    def bucket(bound: str) -> float:
        return registry.get_sample_value("latency_seconds_bucket", {"le": bound})

    assert [bucket(b) for b in ("0.01", "0.1", "1", "+Inf")] == [3, 4, 5, 6]
    assert registry.get_sample_value("latency_seconds_count") == 6
    assert registry.get_sample_value("latency_seconds_sum") == pytest.approx(5.531, abs=1e-6)


def not_on_a_bound(age: float) -> bool:  # at a bound, rounding may put an age either side of it
    return all(abs(age - bound) > 1e-6 for bound in LATENCY_BUCKETS)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(min_value=-10, max_value=7200, allow_nan=False).filter(not_on_a_bound), max_size=50))
def test_observe_ages_counts_as_one_bisect_per_age_would(ages_before_now):
    now = 1_795_000_000.0
    histogram, registry = histogram_in_registry(LATENCY_BUCKETS)
    histogram.observe_ages(now, [now - age for age in ages_before_now])

    ages = [max(0.0, age) for age in ages_before_now]
    per_bucket = [0] * (len(LATENCY_BUCKETS) + 1)
    for age in ages:
        per_bucket[bisect_left(LATENCY_BUCKETS, age)] += 1
    bounds = [*map(str, LATENCY_BUCKETS), "+Inf"]
    got = [registry.get_sample_value("latency_seconds_bucket", {"le": bound}) for bound in bounds]
    assert got == list(accumulate(per_bucket))
    assert registry.get_sample_value("latency_seconds_sum") == pytest.approx(sum(ages), abs=1e-3)
