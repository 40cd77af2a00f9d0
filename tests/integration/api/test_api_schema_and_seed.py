"""The domain migration creates exactly the models' tables, and the demo seed is safe to run twice."""
import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

import common.outbox  # noqa: F401  (registers the outbox table on the shared metadata)
import order_api.adapters.orm  # noqa: F401
from common.db import metadata

DOMAIN_TABLES = {"users", "balance_log", "products", "product_options", "coupons", "user_coupons", "orders", "order_items", "idempotency_keys"}


def test_the_migrated_domain_tables_match_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        differences = [d for d in compare_metadata(context, metadata) if _concerns_domain(d)]
    assert differences == []


def _concerns_domain(difference) -> bool:
    flat = repr(difference)
    return any(f"'{table}'" in flat or f"table_name='{table}'" in flat or f"Table('{table}'" in flat for table in DOMAIN_TABLES)


def test_the_migrated_tables_carry_the_check_constraints_of_the_models(engine):
    inspector = inspect(engine)
    for table in DOMAIN_TABLES:
        expected = {c.name for c in metadata.tables[table].constraints if c.__class__.__name__ == "CheckConstraint"}
        assert {c["name"] for c in inspector.get_check_constraints(table)} == expected, table


def test_the_seed_loads_demo_data_once(database_url, engine):
    env = {**os.environ, "DATABASE_URL": database_url}
    runs = [subprocess.run([sys.executable, "-m", "order_api.seed"], env=env, capture_output=True, text=True, check=True) for _ in range(2)]
    assert "already present" in runs[1].stdout
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM products WHERE name = 'Demo T-shirt'")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM coupons WHERE name = 'Demo 10% off'")).scalar() == 1
