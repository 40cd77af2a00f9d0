"""One HTTP client of the order API: the calls a paying customer and an admin make.

`send` returns the raw `requests.Response` or raises `requests.RequestException`; the caller
decides what a status means. `post` insists on the status a test expects and returns the body.
Set-up calls (`setup_*`) insist on success.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import requests

PRICE = 1_000


class SetupFailed(RuntimeError):
    """The API refused a set-up call (users, products): the run cannot start."""


@dataclass
class Shop:
    base_url: str
    admin_token: str
    timeout_s: float = 10.0
    session: requests.Session | None = None  # keep-alive connections; without, one connection per call

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def send(self, path: str, body: dict, headers: dict | None = None) -> requests.Response:
        client = self.session or requests
        return client.post(f"{self.base_url}{path}", json=body, headers=headers, timeout=self.timeout_s)

    def post(self, path: str, body: dict, expect: int, headers: dict | None = None) -> dict:
        response = self.send(path, body, headers)
        assert response.status_code == expect, response.text
        return response.json()

    def place_order(self, user_id: int, option_id: int) -> requests.Response:
        return self.send("/api/orders", {"userId": user_id, "items": [{"productOptionId": option_id, "quantity": 1}]})

    def pay(self, order_id: int, user_id: int, idempotency_key: str | None = None) -> requests.Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.send(f"/api/orders/{order_id}/payment", {"userId": user_id}, headers)

    def _must(self, response: requests.Response, status: int) -> dict:
        if response.status_code != status:
            raise SetupFailed(f"{response.request.method} {response.url}: {response.status_code} {response.text[:200]}")
        return response.json()

    def setup_users(self, count: int, balance: int) -> list[int]:
        users = []
        for _ in range(count):
            user_id = self._must(self.send("/api/users", {}), 201)["userId"]
            self._must(self.send(f"/api/users/{user_id}/balance/charge", {"amount": balance}), 200)
            users.append(user_id)
        return users

    def setup_options(self, count: int, stock: int) -> list[int]:
        body = {
            "name": "chaos T-shirt", "price": PRICE, "category": "clothes",
            "options": [{"color": f"c{i}", "size": "M", "stock": stock} for i in range(count)],
        }
        product = self._must(self.send("/api/products", body, self.admin), 201)
        return [option["productOptionId"] for option in product["options"]]

    def user_with_balance(self, amount: int) -> int:
        user_id = self.post("/api/users", {}, 201)["userId"]
        self.post(f"/api/users/{user_id}/balance/charge", {"amount": amount}, 200)
        return user_id

    def product(self, price: int, stock: int) -> dict:
        body = {
            "name": "T-shirt",
            "price": price,
            "category": "clothes",
            "options": [{"color": "black", "size": "M", "stock": stock}],
        }
        return self.post("/api/products", body, 201, headers=self.admin)

    def coupon_for(self, user_id: int, rate: int) -> int:
        expires = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
        body = {"name": "welcome", "discountRate": rate, "totalQuantity": 10, "expiresAt": expires}
        coupon_id = self.post("/api/coupons", body, 201, headers=self.admin)["couponId"]
        self.post(f"/api/coupons/{coupon_id}/issue", {"userId": user_id}, 201)
        return coupon_id
