"""Ids in the path: `<id(user):userId>` routes any segment, and one that no row can have (not a
decimal integer from 1 to 2**63-1: `0`, `-1`, `abc`, 2**64) is answered as an unknown id is, with
the resource's own 404 (`/api/users/abc/balance` is USER_NOT_FOUND), before the body is read.

/openapi.json documents such a parameter as the integer range an id can take, noting that any
other value gets that 404.
"""
import re

from flask import Flask
from flask_smorest import Api
from werkzeug import exceptions as http
from werkzeug.routing import BaseConverter, Map

from order_api.domain import errors
from order_api.domain.rules import MAX_BIGINT

DECIMAL = re.compile(r"0*([1-9][0-9]{0,18})")
NOT_FOUND = {
    "user": errors.UserNotFound,
    "product": errors.ProductNotFound,
    "order": errors.OrderNotFound,
    "coupon": errors.CouponNotFound,
}


class NoSuchId(http.NotFound):
    """Raised while routing, so it must be an HTTP error; it carries the domain error to render."""

    def __init__(self, error: errors.NotFound):
        super().__init__(error.message)
        self.error = error


class IdConverter(BaseConverter):
    def __init__(self, url_map: Map, resource: str):
        super().__init__(url_map)
        self.not_found = NOT_FOUND[resource]

    def to_python(self, value: str) -> int:
        digits = DECIMAL.fullmatch(value)
        if digits is None or int(digits[1]) > MAX_BIGINT:
            raise NoSuchId(self.not_found())
        return int(digits[1])

    def to_url(self, value: int) -> str:
        return str(value)


def parameter_schema(converter: IdConverter) -> dict:
    return {
        "type": "integer", "minimum": 1, "maximum": MAX_BIGINT,
        "description": f"Any other value answers 404 {converter.not_found.code}, as an unknown id does.",
    }


def install(app: Flask, api: Api) -> None:
    """Before any blueprint is registered: its rules and their documentation need the converter."""
    app.url_map.converters["id"] = IdConverter
    api.register_converter(IdConverter, parameter_schema)
