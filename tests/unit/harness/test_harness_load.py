"""The open-loop generator measures from the scheduled time, so a slow server cannot hide queueing."""
import threading

from harness.load import OpenLoop
from harness.stats import median_spread


def test_latency_counts_the_wait_for_a_busy_client_thread():
    service_s = 0.05
    pause = threading.Event()

    def slow(tick, client):
        pause.wait(service_s)  # a server taking 50 ms per request
        return 200, None, {}

    outcomes = OpenLoop(rate=100, duration_s=0.3, threads=1).run(slow)

    assert len(outcomes) == 30
    assert all(o.service_ms < 200 for o in outcomes)
    assert outcomes[-1].latency_ms > 1000  # 30 ticks due within 0.3 s, served one per 50 ms


def test_the_run_is_bounded_by_count_and_duration():
    loop = OpenLoop(rate=1000, duration_s=10, threads=4, count=25)

    outcomes = loop.run(lambda tick, client: (200, None, {}))

    assert [o.tick for o in outcomes] == list(range(25))


def test_repeated_measurements_report_median_and_spread():
    runs = [{"p99_ms": 30.0}, {"p99_ms": 10.0}, {"p99_ms": 20.0}, {"p99_ms": None}]

    assert median_spread(runs, "p99_ms") == {"median": 20.0, "min": 10.0, "max": 30.0, "runs": [30.0, 10.0, 20.0]}


def test_a_saturated_run_gives_up_starting_ticks_after_its_limit():
    pause = threading.Event()

    def stuck(tick, client):
        pause.wait(0.2)
        return 200, None, {}

    loop = OpenLoop(rate=100, duration_s=1, threads=2, give_up_s=0.3)
    outcomes = loop.run(stuck)

    assert loop.total == 100
    assert 2 <= len(outcomes) <= 6
