"""Pure payment and order rules: no I/O, easy to test."""
from datetime import datetime, timedelta

from order_api.domain import errors

MAX_BIGINT = 2**63 - 1


class OrderStatus:
    PENDING = "PENDING"
    PAID = "PAID"
    EXPIRED = "EXPIRED"


class BalanceLogCode:
    CHARGE = "CHARGE"
    PAYMENT = "PAYMENT"


def discount(total_amount: int, discount_rate: int) -> int:
    """floor(total × rate / 100), in integer arithmetic so no float ever rounds a won."""
    return total_amount * discount_rate // 100


def expires_at(created_at: datetime, ttl_seconds: int) -> datetime:
    return created_at + timedelta(seconds=ttl_seconds)


def effective_status(status: str, expires: datetime, now: datetime) -> str:
    """A pending order past its expiry is expired even before the sweep has marked it."""
    if status == OrderStatus.PENDING and expires <= now:
        return OrderStatus.EXPIRED
    return status


def ensure_payable(status: str, expires: datetime, now: datetime) -> None:
    status = effective_status(status, expires, now)
    if status == OrderStatus.PAID:
        raise errors.AlreadyPaid()
    if status == OrderStatus.EXPIRED:
        raise errors.OrderExpired()


def ensure_no_duplicate_options(option_ids: list[int]) -> None:
    if len(set(option_ids)) != len(option_ids):
        raise errors.ValidationFailed("items: the same productOptionId appears twice")


def charged_balance(balance: int, amount: int) -> int:
    if balance + amount > MAX_BIGINT:
        raise errors.ValidationFailed("amount: the balance would exceed the largest storable amount")
    return balance + amount


def paid_balance(balance: int, amount: int) -> int:
    if amount > balance:
        raise errors.InsufficientBalance(f"balance {balance} is less than {amount}")
    return balance - amount


def ensure_total_storable(total: int) -> None:
    if total > MAX_BIGINT:
        raise errors.ValidationFailed("items: the total amount is larger than the largest storable amount")
