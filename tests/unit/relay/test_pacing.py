import pytest

from outbox_relay.pacing import DrainPacing, Looking

INTERVAL = 0.010


def drain_starts(arrivals: list[float], interval: float = INTERVAL) -> list[float]:
    """When the relay's drains start for rows arriving at `arrivals`: the first row after a drain
    started wakes the relay, and rows arriving while it waits go in the same drain."""
    pacing, starts = DrainPacing(interval), []
    for arrival in arrivals:
        if starts and arrival <= starts[-1]:
            continue  # taken by the drain that started after it arrived
        start = arrival + pacing.wait_before_next(arrival)
        pacing.started(start)
        starts.append(start)
    return starts


def waits(arrivals: list[float]) -> list[float]:
    starts = drain_starts(arrivals)
    return [min(start for start in starts if start >= arrival) - arrival for arrival in arrivals]


def test_rows_once_per_interval_never_wait_even_with_jitter():
    arrivals = [n * INTERVAL + (0.0004 if n % 3 == 0 else -0.0004) for n in range(1, 200)]
    assert max(waits(arrivals)) < 0.001, "a row arriving once per interval waited most of an interval"


def test_a_fast_stream_gets_at_most_one_drain_per_interval_on_average_never_three_within_one():
    arrivals = [n * 0.002 for n in range(1, 1000)]  # 500 rows/s
    starts = drain_starts(arrivals)
    assert max(waits(arrivals)) <= INTERVAL + 1e-9
    span = starts[-1] - starts[0]
    assert len(starts) <= span / INTERVAL + 2
    assert all(third - first >= INTERVAL - 1e-9 for first, third in zip(starts, starts[2:]))


def test_a_quiet_spell_lets_the_next_row_go_at_once():
    starts = drain_starts([0.0, 0.001, 0.002, 5.0])
    assert starts[-1] == 5.0


def test_zero_turns_spacing_off():
    arrivals = [n * 0.0001 for n in range(100)]
    assert drain_starts(arrivals, interval=0.0) == arrivals


def test_one_late_drain_does_not_delay_the_rows_after_it():
    pacing = DrainPacing(INTERVAL)
    for n in range(10):
        pacing.started(n * INTERVAL)
    pacing.started(10 * INTERVAL + 0.006)  # this drain started 6 ms late (a pause of the relay)
    assert pacing.wait_before_next(11 * INTERVAL) == 0.0, "the next row waits out the late drain's lag"


def test_after_a_look_that_found_rows_the_relay_looks_again_one_interval_after_it_began():
    looking = Looking(INTERVAL, quiet_after_seconds=0.050)
    looking.looked(started=1.0, claimed=3)
    assert looking.active()
    assert looking.wait_before_next(1.002) == pytest.approx(INTERVAL - 0.002)
    assert looking.wait_before_next(1.5) == 0.0, "a look that took longer than the interval is followed at once"


def test_looks_that_find_nothing_for_the_quiet_spell_end_the_looking():
    looking = Looking(INTERVAL, quiet_after_seconds=0.050)
    looking.looked(started=1.0, claimed=1)
    for n in range(1, 5):
        looking.looked(started=1.0 + n * INTERVAL, claimed=0)
        assert looking.active(), f"still looking after {n} empty looks"
    looking.looked(started=1.05, claimed=0)
    assert not looking.active()


def test_a_relay_that_never_found_rows_does_not_look():
    assert not Looking(INTERVAL, quiet_after_seconds=0.050).active()


def test_an_interval_of_zero_never_looks_and_a_quiet_spell_of_zero_ends_looking_at_once():
    never = Looking(0.0, quiet_after_seconds=0.050)
    never.looked(started=1.0, claimed=5)
    assert not never.enabled and not never.active()
    at_once = Looking(INTERVAL, quiet_after_seconds=0.0)
    at_once.looked(started=1.0, claimed=5)
    assert not at_once.active()
