import time

from outbox_relay.claim import ClaimedRow
from outbox_relay.publish import record_headers


def row(headers: str = "{}", type_: str = "order.processed") -> ClaimedRow:
    return ClaimedRow(
        id=1,
        event_id="4c1a7d0e-0000-4000-8000-000000000001",
        aggregateid="101",
        type=type_,
        topic="order.processed",
        payload='{"orderId": 101}',
        headers=headers,
        created_epoch=time.time(),
        attempts=0,
    )


def test_carries_the_contract_headers_first():
    assert record_headers(row()) == [
        ("event_id", b"4c1a7d0e-0000-4000-8000-000000000001"),
        ("event_type", b"order.processed"),
        ("content-type", b"application/json"),
    ]


def test_appends_the_rows_own_headers():
    headers = record_headers(row('{"traceparent": "00-abc-def-01"}'))
    assert headers[-1] == ("traceparent", b"00-abc-def-01")


def test_the_rows_own_headers_cannot_override_the_contract():
    headers = dict(record_headers(row('{"event_id": "forged", "content-type": "text/plain"}')))
    assert headers["event_id"] == b"4c1a7d0e-0000-4000-8000-000000000001"
    assert headers["content-type"] == b"application/json"


def test_event_type_is_the_rows_type():
    assert dict(record_headers(row(type_="order.refunded")))["event_type"] == b"order.refunded"
