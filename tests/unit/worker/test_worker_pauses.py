from prometheus_client import CollectorRegistry, Gauge

from platform_worker.pauses import FLOOD_GUARD, SINK_DOWN, Pauses


def gauges():
    registry = CollectorRegistry()
    return {FLOOD_GUARD: Gauge("flood", "", registry=registry), SINK_DOWN: Gauge("sink", "", registry=registry)}


def value(gauge) -> float:
    return gauge._value.get()


def test_is_held_while_any_reason_is_and_says_which():
    g = gauges()
    pauses = Pauses(g)
    assert not pauses.held and pauses.describe() == ""
    pauses.hold(SINK_DOWN, "ConnectionError: refused")
    pauses.hold(FLOOD_GUARD, "40 of 40 poison")
    assert pauses.held
    assert pauses.describe() == "sink down: ConnectionError: refused; flood guard tripped: 40 of 40 poison"
    assert (value(g[SINK_DOWN]), value(g[FLOOD_GUARD])) == (1, 1)


def test_releasing_one_reason_leaves_the_others_held():
    g = gauges()
    pauses = Pauses(g)
    pauses.hold(FLOOD_GUARD, "poison")
    pauses.hold(SINK_DOWN, "OOM")
    pauses.release(SINK_DOWN)
    assert pauses.held and pauses.describe() == "flood guard tripped: poison"
    assert (value(g[SINK_DOWN]), value(g[FLOOD_GUARD])) == (0, 1)
    pauses.release(FLOOD_GUARD)
    assert not pauses.held


def test_a_reason_held_is_told_at_once_as_the_reason_for_not_being_ready():
    told = []
    pauses = Pauses(gauges(), not_ready=told.append)
    pauses.hold(SINK_DOWN, "OOM command not allowed")
    assert told == ["sink down: OOM command not allowed"]
