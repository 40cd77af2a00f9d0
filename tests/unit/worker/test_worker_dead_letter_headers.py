from datetime import datetime, timezone

from kafka.consumer.fetcher import ConsumerRecord

from platform_worker.dead_letter import Failure, dead_letter_headers, original_headers
from platform_worker.errors import PoisonRecord


def record(headers):
    return ConsumerRecord("order.processed", 4, -1, 1234, 0, 0, b"101", b"{}", headers, None, 3, 2, 0)


def test_dead_letter_headers_keep_the_originals_and_add_where_and_why():
    original = [("event_id", b"e-1"), ("event_type", b"order.processed"), ("content-type", b"application/json")]
    failure = Failure(record(original), PoisonRecord(ValueError("bad")), attempts=1)
    headers = dead_letter_headers(failure, "the-group", now=datetime(2026, 11, 23, 10, 15, 30, 123000, timezone.utc))
    assert headers[:3] == original
    assert dict(headers[3:]) == {
        "dlq.original.topic": b"order.processed",
        "dlq.original.partition": b"4",
        "dlq.original.offset": b"1234",
        "dlq.error.class": b"PoisonRecord",
        "dlq.error.message": b"ValueError: bad",
        "dlq.attempts": b"1",
        "dlq.failed.at": b"2026-11-23T10:15:30.123Z",
        "dlq.consumer.group": b"the-group",
    }


def test_a_record_failing_again_does_not_pile_up_old_dlq_headers():
    headers = [("event_id", b"e-1"), ("dlq.attempts", b"5")]
    assert original_headers(headers) == [("event_id", b"e-1")]
