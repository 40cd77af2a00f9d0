import json

import pytest
from pydantic import ValidationError

from common.order_processed import parse, parse_bytes
from tests.unit.worker.sample import VALID

ITEM = VALID["items"][0]


def encoded(**changes) -> bytes:
    return json.dumps({**VALID, **changes}).encode()


def without(field: str) -> bytes:
    return json.dumps({k: v for k, v in VALID.items() if k != field}).encode()


VALUES = {
    "valid": encoded(),
    "valid-indented": json.dumps(VALID, indent=2).encode(),
    "valid-with-coupon": encoded(couponId=12),
    "valid-no-items": encoded(items=[]),
    "valid-extra-fields": encoded(extra=1, items=[{**ITEM, "colour": "black"}]),
    "valid-unicode-name": encoded(items=[{**ITEM, "productName": "티셔츠 👕"}]),
    "valid-escaped-name": json.dumps({**VALID, "items": [{**ITEM, "productName": "T\u00e9"}]}, ensure_ascii=True).encode(),
    "valid-huge-and-negative-ints": encoded(orderId=2**80, finalAmount=-5),
    "valid-any-processed-at": encoded(processedAt="yesterday"),
    "not-utf8": b"\xff\xfe{}",
    "not-utf8-inside-a-string": encoded(processedAt="@@").replace(b"@@", b"\xed\xa0\x80"),
    "overlong-utf8": encoded(processedAt="@@").replace(b"@@", b"\xc0\x80"),
    "bom": b"\xef\xbb\xbf" + encoded(),
    "not-json": b"not json",
    "empty": b"",
    "trailing-garbage": encoded() + b"x",
    "array": b"[" + encoded() + b"]",
    "null-order-id": encoded(orderId=None),
    "bool-order-id": encoded(orderId=True),
    "float-order-id": encoded(orderId=101.0),
    "string-amount": encoded(finalAmount="45000"),
    "string-coupon": encoded(couponId="12"),
    "missing-order-id": without("orderId"),
    "missing-coupon-id": without("couponId"),
    "missing-items": without("items"),
    "null-items": encoded(items=None),
    "item-not-an-object": encoded(items=[3]),
    "item-missing-price": encoded(items=[{k: v for k, v in ITEM.items() if k != "price"}]),
    "item-string-quantity": encoded(items=[{**ITEM, "quantity": "2"}]),
    "item-numeric-name": encoded(items=[{**ITEM, "productName": 5}]),
    "numeric-processed-at": encoded(processedAt=1795428930),
}


def outcome(read, value):
    try:
        return "accepted", read(value)
    except (UnicodeDecodeError, ValidationError):
        return "refused", None


@pytest.mark.parametrize("value", VALUES.values(), ids=VALUES.keys())
def test_parse_bytes_accepts_exactly_what_parse_accepts_with_the_same_fields(value):
    text_verdict, message = outcome(parse, value)
    bytes_verdict, fields = outcome(parse_bytes, value)
    assert bytes_verdict == text_verdict
    if message is not None:
        assert fields == message.model_dump()


def test_the_sample_values_cover_both_verdicts():
    verdicts = [outcome(parse, value)[0] for value in VALUES.values()]
    assert verdicts.count("accepted") == 9 and verdicts.count("refused") == len(VALUES) - 9
