"""Turn a consumed record into what the store needs, or say it is poison.

The schema is the shared one (`common.order_processed`); the value bytes are kept unchanged.
"""
from datetime import datetime, timezone
from functools import lru_cache

import msgspec
from pydantic import ValidationError

from common.order_processed import parse, parse_bytes
from platform_worker.errors import PoisonRecord


class OrderRecord(msgspec.Struct, gc=False):
    """Built once per record: a gc=False Struct costs a third of a slots dataclass to build, and the garbage
    collector neither counts nor traverses it (it holds no containers, so it can be in no cycle)."""

    order_id: int
    value: bytes
    processed_at: float | None  # epoch seconds, None when processedAt is not an ISO-8601 time


def decode(value: bytes | None) -> OrderRecord:
    """Raises PoisonRecord for a value that is not UTF-8, not JSON, or not an order.processed message."""
    if value is None:
        raise PoisonRecord(ValueError("record has no value"))
    try:
        message = parse_bytes(value)
    except msgspec.DecodeError:  # refused by the fast check: pydantic decides and says why
        fields = _parse_text(value)
        return OrderRecord(fields["orderId"], value, epoch_seconds(fields["processedAt"]))
    return OrderRecord(message.orderId, value, epoch_seconds(message.processedAt))


def epoch_seconds(moment: str) -> float | None:
    """An ISO-8601 time as seconds since the epoch, None if it is not one.

    The relay's own format, `2026-11-23T10:15:30.123Z`, takes two lookups: its second in a cache, its
    `.123Z` in a table of the thousand such endings (parsing each record's time in full was a tenth of
    the worker's CPU); any other ISO-8601 spelling is parsed in full.
    """
    millis = _MILLIS_AND_ZULU.get(moment[19:])
    if millis is not None:
        try:
            return _epoch_of_utc_second(moment[:19]) + millis
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(moment).timestamp()
    except ValueError:
        return None


_MILLIS_AND_ZULU = {f".{millis:03d}Z": millis / 1000 for millis in range(1000)}


@lru_cache(maxsize=1024)
def _epoch_of_utc_second(second: str) -> float:
    moment = datetime.fromisoformat(second)
    if moment.tzinfo is not None:  # an offset inside the first 19 characters: not the relay's format
        raise ValueError(second)
    return moment.replace(tzinfo=timezone.utc).timestamp()


def _parse_text(value: bytes) -> dict:
    try:
        return parse(value).model_dump()
    except (UnicodeDecodeError, ValidationError) as error:
        raise PoisonRecord(error) from error
