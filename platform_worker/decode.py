"""Turn a consumed record into what the store needs, or say it is poison.

The schema is the shared one (`common.order_processed.parse`); the value bytes are kept unchanged.
"""
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from common.order_processed import parse
from platform_worker.errors import PoisonRecord


@dataclass(frozen=True, slots=True)
class OrderRecord:
    order_id: int
    value: bytes
    processed_at: float | None  # epoch seconds, None when processedAt is not an ISO-8601 time


def decode(value: bytes | None) -> OrderRecord:
    """Raises PoisonRecord for a value that is not UTF-8, not JSON, or not an order.processed message."""
    if value is None:
        raise PoisonRecord(ValueError("record has no value"))
    try:
        message = parse(value)
    except (UnicodeDecodeError, ValidationError) as error:
        raise PoisonRecord(error) from error
    return OrderRecord(message.orderId, value, _epoch(message.processedAt))


def _epoch(moment: str) -> float | None:
    try:
        return datetime.fromisoformat(moment).timestamp()
    except ValueError:
        return None
