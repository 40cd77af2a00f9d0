"""The synthetic order.processed message the benchmarks write: one T-shirt line of 2 × 25,000.

`order_processed` builds it in Python; `ORDER_PROCESSED_SQL` is the same object as a PostgreSQL
jsonb expression over `:base + g` (a generate_series row), for backlogs written in one statement.
"""
RELAY_PROCESSED_AT = "2026-11-23T10:15:30.123Z"


def order_processed(order_id: int, user_id: int = 7, processed_at: str = RELAY_PROCESSED_AT) -> dict:
    return {"orderId": order_id, "userId": user_id, "finalAmount": 45000, "couponId": None,
            "items": [{"productOptionId": 3, "productName": "T-shirt", "quantity": 2, "price": 25000}],
            "processedAt": processed_at}


ORDER_PROCESSED_SQL = (
    "jsonb_build_object('orderId', :base + g, 'userId', 7 + g % 100, 'finalAmount', 45000, 'couponId', null,"
    " 'items', jsonb_build_array(jsonb_build_object('productOptionId', 3, 'productName', 'T-shirt',"
    " 'quantity', 2, 'price', 25000)), 'processedAt', '" + RELAY_PROCESSED_AT + "')"
)
