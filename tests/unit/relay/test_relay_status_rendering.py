from outbox_relay.status import TopicStatus, render


def test_an_empty_outbox_reads_as_nothing_pending():
    assert render([]) == "pending: 0\noldest pending age: 0.0 s"


def test_sums_topics_and_shows_each_ones_last_error():
    text = render(
        [
            TopicStatus("a", 2, 3.25, None),
            TopicStatus("b", 5, 10.0, "KafkaTimeoutError: Batch expired"),
        ]
    )
    assert text.splitlines() == [
        "pending: 7",
        "oldest pending age: 10.0 s",
        "topic a: pending 2, oldest 3.2 s, last error: -",
        "topic b: pending 5, oldest 10.0 s, last error: KafkaTimeoutError: Batch expired",
    ]
