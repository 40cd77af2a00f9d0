"""A thin HTTP client of the order API: the calls a paying customer and an admin make.

Every call returns the raw `requests.Response` or raises `requests.RequestException`; the caller
decides what a status means. Set-up calls (`setup_*`) insist on success.
"""
from dataclasses import dataclass, field

import requests

PRICE = 1_000


class SetupFailed(RuntimeError):
    """The API refused a set-up call (users, products): the run cannot start."""


@dataclass
class Shop:
    base_url: str
    admin_token: str
    timeout_s: float = 10.0
    session: requests.Session = field(default_factory=requests.Session)

    def post(self, path: str, body: dict, headers: dict | None = None) -> requests.Response:
        return self.session.post(f"{self.base_url}{path}", json=body, headers=headers, timeout=self.timeout_s)

    def place_order(self, user_id: int, option_id: int) -> requests.Response:
        return self.post("/api/orders", {"userId": user_id, "items": [{"productOptionId": option_id, "quantity": 1}]})

    def pay(self, order_id: int, user_id: int, idempotency_key: str | None = None) -> requests.Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.post(f"/api/orders/{order_id}/payment", {"userId": user_id}, headers)

    def _must(self, response: requests.Response, status: int) -> dict:
        if response.status_code != status:
            raise SetupFailed(f"{response.request.method} {response.url}: {response.status_code} {response.text[:200]}")
        return response.json()

    def setup_users(self, count: int, balance: int) -> list[int]:
        users = []
        for _ in range(count):
            user_id = self._must(self.post("/api/users", {}), 201)["userId"]
            self._must(self.post(f"/api/users/{user_id}/balance/charge", {"amount": balance}), 200)
            users.append(user_id)
        return users

    def setup_options(self, count: int, stock: int) -> list[int]:
        admin = {"Authorization": f"Bearer {self.admin_token}"}
        body = {
            "name": "chaos T-shirt", "price": PRICE, "category": "clothes",
            "options": [{"color": f"c{i}", "size": "M", "stock": stock} for i in range(count)],
        }
        product = self._must(self.post("/api/products", body, admin), 201)
        return [option["productOptionId"] for option in product["options"]]
