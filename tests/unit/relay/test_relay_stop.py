from outbox_relay.stop import Stop


def test_nothing_is_requested_until_a_signal_arrives():
    stop = Stop(grace_seconds=5)
    assert not stop.requested
    assert not stop.grace_over()


def test_a_signal_requests_the_stop_and_a_zero_grace_is_over_at_once():
    stop = Stop(grace_seconds=0)
    stop.request(15, None)
    assert stop.requested
    assert stop.grace_over()


def test_the_grace_is_not_over_right_after_the_signal():
    stop = Stop(grace_seconds=60)
    stop.request()
    assert not stop.grace_over()
