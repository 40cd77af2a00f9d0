"""Request bodies (marshmallow): what is validated, and what /openapi.json shows of it. The
answers are read models, in views.py.

Integers are strict (no strings, floats or booleans) and bounded to 64 bits; unknown fields are
ignored; strings refuse NUL characters, which PostgreSQL cannot store.
"""
from datetime import datetime, timezone

import marshmallow as ma
from marshmallow import fields, validate

from order_api.domain.rules import MAX_BIGINT

MAX_INT32 = 2**31 - 1
MAX_LINES = 100


class Base(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE


def Id(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_BIGINT), **kwargs)


def Count(minimum: int, maximum: int = MAX_INT32, **kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=minimum, max=maximum), **kwargs)


class Text(fields.String):
    """Non-empty text without NUL characters or lone surrogates, at most `max_length` characters."""

    def __init__(self, max_length: int = 200, **kwargs):
        super().__init__(
            validate=[validate.Length(min=1, max=max_length), validate.Regexp(r"^[^\x00]*$")], **kwargs
        )

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ma.ValidationError("Not valid UTF-8 text.") from error
        return text


class UtcDateTime(fields.DateTime):
    """ISO-8601 in; naive times are taken as UTC. Out: UTC with milliseconds, `...T10:15:30.123Z`."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
        except OverflowError as error:
            raise ma.ValidationError("Not a representable UTC time.") from error

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class CreateUserRequest(Base):
    pass


class ChargeRequest(Base):
    amount = Count(1, MAX_BIGINT, required=True)


class OptionRequest(Base):
    color = Text(50, required=True)
    size = Text(50, required=True)
    stock = Count(0, required=True)


class CreateProductRequest(Base):
    name = Text(required=True)
    price = Count(0, MAX_BIGINT, required=True)
    category = Text(100, required=True)
    options = fields.List(fields.Nested(OptionRequest), required=True, validate=validate.Length(min=1, max=MAX_LINES))


class CreateCouponRequest(Base):
    name = Text(required=True)
    discountRate = Count(1, 100, required=True)
    totalQuantity = Count(1, required=True)
    expiresAt = UtcDateTime(required=True)


class IssueCouponRequest(Base):
    userId = Id(required=True)


class OrderLineRequest(Base):
    productOptionId = Id(required=True)
    quantity = Count(1, required=True)


class PlaceOrderRequest(Base):
    userId = Id(required=True)
    items = fields.List(fields.Nested(OrderLineRequest), required=True, validate=validate.Length(min=1, max=MAX_LINES))


class PaymentRequest(Base):
    userId = Id(required=True)
    couponId = Id(allow_none=True, load_default=None)


class IdempotencyHeaders(Base):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=validate.Length(min=1, max=255),
        metadata={"description": "Repeat a request safely: the same key and body get the first answer."},
    )
