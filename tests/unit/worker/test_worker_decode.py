import json
from datetime import datetime

import pytest
from pydantic import ValidationError

from platform_worker.decode import decode, epoch_seconds
from platform_worker.errors import PoisonRecord
from tests.unit.worker.sample import VALID



def test_a_valid_record_keeps_its_value_bytes_unchanged():
    value = json.dumps(VALID, indent=2).encode()
    order = decode(value)
    assert order.order_id == 101
    assert order.value is value
    assert order.processed_at == pytest.approx(1795428930.123)


@pytest.mark.parametrize(
    "value, cause",
    [
        (b"\xff\xfe{}", UnicodeDecodeError),
        (json.dumps({**VALID, "processedAt": "@@"}).encode().replace(b"@@", b"\xed\xa0\x80"), UnicodeDecodeError),
        (b"not json", ValidationError),
        (json.dumps({**VALID, "orderId": None}).encode(), ValidationError),
        (json.dumps({**VALID, "finalAmount": "45000"}).encode(), ValidationError),
        (json.dumps({k: v for k, v in VALID.items() if k != "orderId"}).encode(), ValidationError),
    ],
    ids=["not-utf8", "not-utf8-inside-a-string", "not-json", "null-order-id", "wrong-type", "missing-order-id"],
)
def test_a_record_that_can_never_succeed_is_poison(value, cause):
    with pytest.raises(PoisonRecord) as raised:
        decode(value)
    assert isinstance(raised.value.cause, cause)


def test_a_record_without_value_is_poison():
    with pytest.raises(PoisonRecord):
        decode(None)


def test_an_unparseable_processed_at_is_stored_without_a_latency():
    assert decode(json.dumps({**VALID, "processedAt": "yesterday"}).encode()).processed_at is None


@pytest.mark.parametrize("moment", [
    "2026-11-23T10:15:30.123Z", "2026-11-23T10:15:30.000Z", "1999-12-31T23:59:59.999Z", "2026-11-23T10:15:30Z",
    "2026-11-23T12:15:30.123+02:00", "2026-11-23T10:15:30.123456+00:00", "2026-11-23 10:15:30.123Z",
    "2026-11-23T10:15:30.123+00:00", "2026-11-23T10:15:30+01:00",
])
def test_processed_at_in_the_relay_format_or_any_iso_spelling_gives_the_same_epoch_as_a_full_parse(moment):
    assert epoch_seconds(moment) == pytest.approx(datetime.fromisoformat(moment).timestamp(), abs=1e-6)


@pytest.mark.parametrize("moment", [
    "2026-13-23T10:15:30.123Z", "2026-11-23T10:15:30.12xZ", "2026-11-23T10:15:30.-12Z", "2026-11-23T10:15+01.123Z",
    "x2026-11-23T10:15:30.123Z", "yesterday", "",
])
def test_a_processed_at_that_is_no_time_gives_no_epoch(moment):
    assert epoch_seconds(moment) is None
