"""Alembic migrations go up from an empty database and all the way down again."""
import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from tests.support import database


@pytest.fixture
def empty_database(test_env):
    name = f"{test_env.database_name}_migrations"
    database.create_database(test_env.base_database_url, name)
    url = test_env.database_url.replace(test_env.database_name, name)
    yield url
    database.drop_database(test_env.base_database_url, name)


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_creates_the_outbox_and_domain_tables(empty_database):
    command.upgrade(database.alembic_config(empty_database), "head")

    tables = table_names(empty_database)

    assert {"outbox", "users", "orders", "order_items", "product_options"} <= tables


def test_downgrade_to_base_leaves_only_alembics_own_table(empty_database):
    config = database.alembic_config(empty_database)
    command.upgrade(config, "head")

    command.downgrade(config, "base")

    assert table_names(empty_database) <= {"alembic_version"}


def test_upgrade_after_downgrade_works_again(empty_database):
    config = database.alembic_config(empty_database)
    command.upgrade(config, "head")
    command.downgrade(config, "base")

    command.upgrade(config, "head")

    assert "outbox" in table_names(empty_database)
