"""Request validation: strict 64-bit integers, text PostgreSQL can store, UTC times."""
import marshmallow as ma
import pytest

from order_api.adapters.orm import Coupon
from order_api.entrypoints import schemas as s, views
from order_api.entrypoints.errors import flatten


@pytest.mark.parametrize("value", [True, 1.0, "1", 0, -1, 2**63, None])
def test_an_id_must_be_a_positive_64_bit_integer(value):
    with pytest.raises(ma.ValidationError):
        s.IssueCouponRequest().load({"userId": value})


def test_unknown_fields_are_dropped():
    assert s.ChargeRequest().load({"amount": 5, "note": "x"}) == {"amount": 5}


@pytest.mark.parametrize("name", ["", "a\x00b", "\ud800", "x" * 201])
def test_text_that_postgresql_cannot_store_or_is_out_of_bounds_is_refused(name):
    with pytest.raises(ma.ValidationError):
        s.CreateProductRequest().load(
            {"name": name, "price": 1, "category": "c", "options": [{"color": "r", "size": "M", "stock": 1}]}
        )


def test_a_naive_time_is_taken_as_utc_and_times_are_rendered_with_milliseconds():
    loaded = s.CreateCouponRequest().load(
        {"name": "x", "discountRate": 5, "totalQuantity": 1, "expiresAt": "2030-01-01T09:00:00+09:00"}
    )
    coupon = Coupon(id=0, name="x", discount_rate=0, total_quantity=0, issued_quantity=0, expires_at=loaded["expiresAt"])
    assert views.CouponResponse().dump(coupon)["expiresAt"] == "2030-01-01T00:00:00.000Z"


def test_a_time_that_cannot_be_expressed_in_utc_is_refused():
    with pytest.raises(ma.ValidationError):
        s.CreateCouponRequest().load({"name": "x", "discountRate": 5, "totalQuantity": 1, "expiresAt": "9999-12-31T23:59:59-12:00"})


def test_validation_messages_are_flattened_to_field_paths():
    messages = {"json": {"items": {"0": {"quantity": ["Must be greater than or equal to 1."]}}}}
    assert flatten(messages["json"]) == ["items.0.quantity: Must be greater than or equal to 1."]
    assert flatten(["Invalid JSON body."]) == ["Invalid JSON body."]
