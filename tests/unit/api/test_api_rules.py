"""Pure payment rules and the error table, without I/O."""
from datetime import datetime, timedelta, timezone

import pytest

from order_api.domain import errors, rules
from order_api.entrypoints import errors as http_errors  # noqa: F401  the errors only HTTP causes subclass ApiError there

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "total, rate, expected",
    [(50000, 10, 5000), (999, 10, 99), (1, 99, 0), (12345, 15, 1851), (100, 100, 100), (2**62, 100, 2**62)],
)
def test_the_discount_is_floor_of_total_times_rate_over_a_hundred(total, rate, expected):
    assert rules.discount(total, rate) == expected


def test_a_pending_order_past_its_expiry_is_expired_before_any_sweep():
    assert rules.effective_status("PENDING", NOW, NOW) == "EXPIRED"
    assert rules.effective_status("PENDING", NOW + timedelta(seconds=1), NOW) == "PENDING"
    assert rules.effective_status("PAID", NOW - timedelta(days=1), NOW) == "PAID"


@pytest.mark.parametrize(
    "status, expires, error",
    [("PAID", NOW + timedelta(minutes=5), errors.AlreadyPaid), ("EXPIRED", NOW, errors.OrderExpired),
     ("PENDING", NOW - timedelta(seconds=1), errors.OrderExpired)],
)
def test_only_a_pending_unexpired_order_is_payable(status, expires, error):
    with pytest.raises(error):
        rules.ensure_payable(status, expires, NOW)
    rules.ensure_payable("PENDING", NOW + timedelta(seconds=1), NOW)


def test_paying_more_than_the_balance_is_refused_and_exactly_the_balance_is_allowed():
    with pytest.raises(errors.InsufficientBalance):
        rules.paid_balance(999, 1000)
    assert rules.paid_balance(1000, 1000) == 0


def test_a_charge_beyond_64_bits_is_a_validation_error():
    with pytest.raises(errors.ValidationFailed):
        rules.charged_balance(rules.MAX_BIGINT, 1)
    assert rules.charged_balance(rules.MAX_BIGINT - 1, 1) == rules.MAX_BIGINT


def test_the_same_option_twice_is_refused():
    with pytest.raises(errors.ValidationFailed):
        rules.ensure_no_duplicate_options([3, 4, 3])
    rules.ensure_no_duplicate_options([3, 4])


def all_error_classes(base=errors.ApiError):
    for sub in base.__subclasses__():
        yield sub
        yield from all_error_classes(sub)


def test_every_error_has_the_status_and_code_of_the_design_table():
    table = {
        400: {"VALIDATION_ERROR"}, 401: {"UNAUTHORIZED"}, 403: {"FORBIDDEN"},
        404: {"USER_NOT_FOUND", "PRODUCT_NOT_FOUND", "PRODUCT_OPTION_NOT_FOUND", "ORDER_NOT_FOUND", "COUPON_NOT_FOUND"},
        409: {"INSUFFICIENT_STOCK", "INSUFFICIENT_BALANCE", "ORDER_EXPIRED", "ALREADY_PAID", "INVALID_COUPON",
              "COUPON_SOLD_OUT", "COUPON_ALREADY_ISSUED", "IDEMPOTENCY_KEY_REUSED"},
        413: {"PAYLOAD_TOO_LARGE"},
    }
    beyond_the_table = {"NOT_FOUND", "METHOD_NOT_ALLOWED", "SERVICE_UNAVAILABLE"}
    found: dict[int, set] = {}
    for kind in all_error_classes():
        if hasattr(kind, "code") and kind is not errors.Conflict:
            found.setdefault(kind.status, set()).add(kind.code)
    for status, codes in table.items():
        assert codes <= found[status], status
    assert set().union(*found.values()) - set().union(*table.values()) == beyond_the_table
