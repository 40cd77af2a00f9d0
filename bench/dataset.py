"""Payable orders for a benchmark: one per user made by the API's own service layer, then cloned.

`place_order` costs ~5-10 ms per order on a busy 2-core machine, too slow for the tens of thousands
a run pays. So each user gets one template order through `order_api.service_layer.orders.place_order`
(the exact rows the API writes), and one SQL statement clones the templates with the same effects:
an orders row (PENDING, an hour to live), its order_items row, and the options' reserved stock
raised by what was reserved. Every user's balance is far above what the run can spend.
Returns (orderId, userId) pairs of every payable order, in id order.
"""
from datetime import datetime, timezone

from sqlalchemy import text

from common.db import make_engine
from order_api.adapters.database import session_factory
from order_api.service_layer import orders, products, users

_CLONE = text("""
WITH t AS (
    SELECT o.user_id, o.total_amount, i.product_option_id, i.product_name, i.price, i.quantity, i.subtotal
    FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.id = ANY(:templates)
), ins AS (
    INSERT INTO orders (user_id, status, total_amount, discount_amount, created_at, expires_at)
    SELECT t.user_id, 'PENDING', t.total_amount, 0, now(), now() + interval '1 hour'
    FROM generate_series(1, :per_user) AS g CROSS JOIN t ORDER BY g, t.user_id
    RETURNING id, user_id
), items AS (
    INSERT INTO order_items (order_id, product_option_id, product_name, price, quantity, subtotal)
    SELECT ins.id, t.product_option_id, t.product_name, t.price, t.quantity, t.subtotal
    FROM ins JOIN t ON t.user_id = ins.user_id
    RETURNING product_option_id, quantity
)
UPDATE product_options p SET reserved_stock = p.reserved_stock + s.reserved
FROM (SELECT product_option_id, sum(quantity) AS reserved FROM items GROUP BY product_option_id) s
WHERE p.id = s.product_option_id
""")


def payable_orders(database_url: str, count: int, users_count: int = 50, options_count: int = 8) -> list[tuple[int, int]]:
    engine = make_engine(database_url, pool_size=1)
    sessions = session_factory(engine)
    now = datetime.now(timezone.utc)
    try:
        with sessions.begin() as session:
            product = products.create_product(
                session, name="bench T-shirt", price=1000, category="clothes",
                options=[{"color": f"c{i}", "size": "M", "stock": 10**9} for i in range(options_count)],
            )
            option_ids = [option.id for option in product.options]
            templates = []
            for i in range(users_count):
                user_id = users.create_user(session).id
                users.charge(session, user_id, 10**13)
                line = orders.OrderLine(option_ids[i % options_count], 1)
                templates.append(orders.place_order(session, user_id=user_id, lines=[line], ttl_seconds=3600, now=now).order.id)
        per_user = max(0, -(-count // users_count) - 1)
        with engine.begin() as conn:
            conn.execute(_CLONE, {"templates": templates, "per_user": per_user})
            made = conn.execute(text("SELECT id, user_id FROM orders WHERE status = 'PENDING' ORDER BY id")).all()
    finally:
        engine.dispose()
    return [(order_id, user_id) for order_id, user_id in made][:count]
