import json

import msgspec
import pytest
from hypothesis import given, settings, strategies as st
from pydantic import ValidationError

from common.order_processed import parse, parse_bytes
from tests.unit.worker.sample import VALID

ITEM = VALID["items"][0]


def encoded(**changes) -> bytes:
    return json.dumps({**VALID, **changes}).encode()


def without(field: str) -> bytes:
    return json.dumps({k: v for k, v in VALID.items() if k != field}).encode()


def nested_extra(depth: int) -> bytes:
    return encoded(extra="@@").replace(b'"@@"', b"[" * depth + b"]" * depth)


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
    "lone-surrogate-escape": encoded(processedAt="@@").replace(b"@@", rb"\ud800"),
    "raw-newline-in-a-string": encoded(processedAt="@@").replace(b"@@", b"\n"),
    "nested-200-in-an-extra-field": nested_extra(200),
    "nested-2000-in-an-extra-field": nested_extra(2000),
    "key-given-twice-first-wrong": encoded(userId="@@").replace(b'"userId": "@@"', b'"userId": "x", "userId": 7'),
    "key-given-twice-last-wrong": encoded(userId="@@").replace(b'"userId": "@@"', b'"userId": 7, "userId": "x"'),
    "key-given-twice-both-valid": encoded(orderId="@@").replace(b'"orderId": "@@"', b'"orderId": 5, "orderId": 6'),
    "nested-300-in-an-extra-field": nested_extra(300),
}

# Where the two parsers' own limits, not the schema, decide: msgspec checks each copy of a key given
# twice (pydantic keeps the last), and pydantic refuses nesting deeper than 255 (msgspec: ~1000).
KNOWN_DIFFERENCES = {"key-given-twice-first-wrong": ("accepted", "refused"),
                     "nested-300-in-an-extra-field": ("refused", "accepted")}


def outcome(read, value):
    try:
        return "accepted", read(value)
    except (UnicodeDecodeError, ValidationError, msgspec.DecodeError):
        return "refused", None


def verdicts_and_fields(value: bytes):
    (text_verdict, message), (bytes_verdict, struct) = outcome(parse, value), outcome(parse_bytes, value)
    fields = (message.model_dump() if message else None, msgspec.to_builtins(struct) if struct else None)
    return (text_verdict, bytes_verdict), fields


@pytest.mark.parametrize("name", VALUES.keys())
def test_parse_bytes_accepts_exactly_what_parse_accepts_with_the_same_fields(name):
    verdicts, (text_fields, bytes_fields) = verdicts_and_fields(VALUES[name])
    assert verdicts == KNOWN_DIFFERENCES.get(name, (verdicts[0], verdicts[0]))
    if verdicts == ("accepted", "accepted"):
        assert bytes_fields == text_fields


def test_the_sample_values_cover_both_verdicts():
    verdicts = [outcome(parse, value)[0] for value in VALUES.values()]
    assert verdicts.count("accepted") == 12 and verdicts.count("refused") == len(VALUES) - 12


ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=2**62, max_value=2**90)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),  # JSON has no NaN or Infinity
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def mutated(document: dict, data) -> dict:
    """Some fields dropped, some replaced by any JSON, some unknown ones added."""
    changed = {}
    for name, value in document.items():
        action = data.draw(st.sampled_from(["keep"] * 6 + ["drop", "replace"]), label=name)
        if action == "keep":
            changed[name] = value
        elif action == "replace":
            changed[name] = data.draw(ANY_JSON, label=f"{name} becomes")
    return {**changed, **data.draw(st.dictionaries(st.text(max_size=5), ANY_JSON, max_size=2), label="added")}


@settings(max_examples=400, deadline=None)
@given(st.data(), st.booleans())
def test_parse_bytes_agrees_with_parse_on_generated_messages(data, ascii_only):
    document = mutated(VALID, data)
    if isinstance(document.get("items"), list) and document["items"] and data.draw(st.booleans(), label="item"):
        document["items"] = [mutated(VALID["items"][0], data)]
    verdicts, (text_fields, bytes_fields) = verdicts_and_fields(json.dumps(document, ensure_ascii=ascii_only).encode())
    assert verdicts[0] == verdicts[1]
    assert bytes_fields == text_fields
