"""The `order.processed` message: the schema every producer and consumer of the topic shares.

Value: UTF-8 JSON of `OrderProcessedMessage`; key: the orderId as a decimal string; headers below.
"""
from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr

EVENT_TYPE = "order.processed"
AGGREGATE_TYPE = "order"
HEADER_EVENT_ID = "event_id"
HEADER_EVENT_TYPE = "event_type"
HEADER_CONTENT_TYPE = "content-type"
CONTENT_TYPE = "application/json"


class OrderProcessedItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    productOptionId: StrictInt
    productName: StrictStr
    quantity: StrictInt
    price: StrictInt


class OrderProcessedMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    orderId: StrictInt
    userId: StrictInt
    finalAmount: StrictInt
    couponId: StrictInt | None
    items: list[OrderProcessedItem]
    processedAt: StrictStr

    def key(self) -> bytes:
        return str(self.orderId).encode()


def iso_millis(moment: datetime) -> str:
    """`2026-11-23T10:15:30.123Z`: UTC, millisecond precision, as in the seed system."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse(value: bytes) -> OrderProcessedMessage:
    """Raises UnicodeDecodeError or pydantic.ValidationError for a record that can never succeed."""
    return OrderProcessedMessage.model_validate_json(value.decode("utf-8"))


def kafka_headers(event_id: str, extra: dict[str, str] | None = None) -> list[tuple[str, bytes]]:
    headers = {
        HEADER_EVENT_ID: event_id,
        HEADER_EVENT_TYPE: EVENT_TYPE,
        HEADER_CONTENT_TYPE: CONTENT_TYPE,
        **(extra or {}),
    }
    return [(name, str(value).encode()) for name, value in headers.items()]
