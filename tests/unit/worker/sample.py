"""A valid `order.processed` value, shared by the worker's decoding tests."""

VALID = {
    "orderId": 101,
    "userId": 7,
    "finalAmount": 45000,
    "couponId": None,
    "items": [{"productOptionId": 3, "productName": "T-shirt", "quantity": 2, "price": 25000}],
    "processedAt": "2026-11-23T10:15:30.123Z",
}
