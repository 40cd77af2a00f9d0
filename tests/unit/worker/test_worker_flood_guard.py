from platform_worker.flood_guard import FloodGuard


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def guard(clock, share=0.5, window_s=60, min_records=10):
    return FloodGuard(share, window_s, min_records, clock=clock)


def test_admits_batches_while_failures_stay_under_the_share():
    g = guard(Clock())
    assert g.admit(10, 5)
    assert g.admit(10, 0)
    assert not g.tripped


def test_trips_when_failures_exceed_the_share_of_the_window():
    g = guard(Clock())
    assert g.admit(10, 2)
    assert not g.admit(10, 9)
    assert g.tripped


def test_does_not_trip_before_the_minimum_number_of_records():
    g = guard(Clock(), min_records=10)
    assert g.admit(3, 3)
    assert not g.tripped


def test_stays_tripped_once_tripped():
    g = guard(Clock())
    g.admit(10, 10)
    assert not g.admit(1000, 0)


def test_forgets_failures_older_than_the_window():
    clock = Clock()
    g = guard(clock, min_records=10)
    g.admit(9, 9)
    clock.now += 61
    assert g.admit(10, 1)
    assert g.failure_share == 0.1
