"""Turn a consumed record into what the store needs, or say it is poison.

The schema is the shared one (`common.order_processed`); the value bytes are kept unchanged.
"""
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from common.order_processed import parse, parse_bytes
from platform_worker.errors import PoisonRecord


@dataclass(slots=True)  # not frozen: a frozen dataclass costs three times as much to build, per record
class OrderRecord:
    order_id: int
    value: bytes
    processed_at: float | None  # epoch seconds, None when processedAt is not an ISO-8601 time


def decode(value: bytes | None) -> OrderRecord:
    """Raises PoisonRecord for a value that is not UTF-8, not JSON, or not an order.processed message."""
    try:
        fields = parse_bytes(value)
    except ValidationError:
        fields = _parse_text(value)  # refused: the text route says why (UnicodeDecodeError or ValidationError)
    try:
        processed_at = datetime.fromisoformat(fields["processedAt"]).timestamp()
    except ValueError:
        processed_at = None
    return OrderRecord(fields["orderId"], value, processed_at)


def _parse_text(value: bytes | None) -> dict:
    if value is None:
        raise PoisonRecord(ValueError("record has no value"))
    try:
        return parse(value).model_dump()
    except (UnicodeDecodeError, ValidationError) as error:
        raise PoisonRecord(error) from error
