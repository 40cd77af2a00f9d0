"""Demo data for `make up`: `python -m order_api.seed` (uses DATABASE_URL). Safe to run twice.

Loads three users with balance, two products with options and a coupon, once: the run holds an
advisory lock and does nothing if the demo products already exist.
"""
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from order_api.adapters.database import engine_for, session_factory
from order_api.adapters.orm import Product
from order_api.config import Settings
from order_api.service_layer import coupons, products, users

SEED_LOCK_KEY = 0x5EED_0001
PRODUCTS = [
    {"name": "Demo T-shirt", "price": 25000, "category": "tops",
     "options": [{"color": "black", "size": "M", "stock": 100}, {"color": "white", "size": "L", "stock": 100}]},
    {"name": "Demo Hoodie", "price": 59000, "category": "tops",
     "options": [{"color": "grey", "size": "M", "stock": 50}, {"color": "navy", "size": "XL", "stock": 50}]},
]
BALANCES = [1_000_000, 500_000, 100_000]


def seed(session: Session) -> dict | None:
    session.execute(select(func.pg_advisory_xact_lock(SEED_LOCK_KEY)))
    if session.scalar(select(Product.id).where(Product.name == PRODUCTS[0]["name"])) is not None:
        return None
    user_ids = []
    for balance in BALANCES:
        user_id = users.create_user(session).id
        users.charge(session, user_id, balance)
        user_ids.append(user_id)
    product_ids = [products.create_product(session, **product).id for product in PRODUCTS]
    coupon = coupons.create_coupon(
        session, name="Demo 10% off", discount_rate=10, total_quantity=100,
        expires_at=datetime.now(timezone.utc) + timedelta(days=365),
    )
    return {"userIds": user_ids, "productIds": product_ids, "couponId": coupon.id}


def main() -> None:
    settings = Settings(admin_token="unused-by-seed")
    engine = engine_for(settings)
    with session_factory(engine).begin() as session:
        loaded = seed(session)
    engine.dispose()
    print(f"demo data loaded: {loaded}" if loaded else "demo data already present")


if __name__ == "__main__":
    main()
