"""Set up users, products, coupons and orders through the API itself (any client with .post/.get)."""
from dataclasses import dataclass
from typing import Any

ADMIN = {"Authorization": "Bearer test-admin-token"}


def _json(response, status: int) -> Any:
    assert response.status_code == status, (response.status_code, response.text if hasattr(response, "text") else response.get_data(as_text=True))
    return response.json() if callable(getattr(response, "json", None)) else response.get_json()


@dataclass
class Api:
    """Wraps either a Flask test client (base="") or a requests.Session with a base URL."""

    client: Any
    base: str = ""

    def post(self, path: str, body: Any = None, headers: dict | None = None):
        return self.client.post(self.base + path, json=body, headers=headers or {})

    def get(self, path: str):
        return self.client.get(self.base + path)

    def user(self, balance: int = 0) -> int:
        user_id = _json(self.post("/api/users", {}), 201)["userId"]
        if balance:
            _json(self.post(f"/api/users/{user_id}/balance/charge", {"amount": balance}), 200)
        return user_id

    def product(self, price: int = 10000, stocks: tuple[int, ...] = (10,), name: str = "T-shirt") -> dict:
        options = [{"color": f"c{i}", "size": "M", "stock": stock} for i, stock in enumerate(stocks)]
        body = {"name": name, "price": price, "category": "tops", "options": options}
        return _json(self.post("/api/products", body, ADMIN), 201)

    def option(self, price: int = 10000, stock: int = 10) -> int:
        return self.product(price, (stock,))["options"][0]["productOptionId"]

    def coupon(self, rate: int = 10, quantity: int = 10, expires_at: str = "2099-01-01T00:00:00Z") -> int:
        body = {"name": "ten off", "discountRate": rate, "totalQuantity": quantity, "expiresAt": expires_at}
        return _json(self.post("/api/coupons", body, ADMIN), 201)["couponId"]

    def issue(self, coupon_id: int, user_id: int) -> dict:
        return _json(self.post(f"/api/coupons/{coupon_id}/issue", {"userId": user_id}), 201)

    def order(self, user_id: int, option_id: int, quantity: int = 1) -> dict:
        body = {"userId": user_id, "items": [{"productOptionId": option_id, "quantity": quantity}]}
        return _json(self.post("/api/orders", body), 201)

    def pay(self, order_id: int, user_id: int, coupon_id: int | None = None, key: str | None = None):
        body = {"userId": user_id, **({"couponId": coupon_id} if coupon_id else {})}
        return self.post(f"/api/orders/{order_id}/payment", body, {"Idempotency-Key": key} if key else None)

    def balance(self, user_id: int) -> int:
        return _json(self.get(f"/api/users/{user_id}/balance"), 200)["balance"]
