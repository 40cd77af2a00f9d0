from prometheus_client import CollectorRegistry

from platform_worker.metrics import BatchHistogram


def test_a_batch_of_latencies_lands_in_cumulative_buckets_with_count_and_sum():
    registry = CollectorRegistry()
    histogram = BatchHistogram("latency_seconds", "test", (0.01, 0.1, 1))
    registry.register(histogram)
    histogram.observe_many([0.001, 0.01, 0.02, 5.0])
    histogram.observe_many([])
    histogram.observe_many([0.5])

    def bucket(bound: str) -> float:
        return registry.get_sample_value("latency_seconds_bucket", {"le": bound})

    assert [bucket(b) for b in ("0.01", "0.1", "1", "+Inf")] == [2, 3, 4, 5]
    assert registry.get_sample_value("latency_seconds_count") == 5
    assert registry.get_sample_value("latency_seconds_sum") == 5.531
