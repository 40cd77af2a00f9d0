"""Alembic migrations go up from an empty database and all the way down again."""
import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from harness import database


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


def test_the_outbox_has_exactly_the_columns_of_the_design(empty_database):
    command.upgrade(database.alembic_config(empty_database), "head")
    engine = create_engine(empty_database)
    try:
        columns = [column["name"] for column in inspect(engine).get_columns("outbox")]
    finally:
        engine.dispose()

    assert columns == [
        "id", "event_id", "aggregatetype", "aggregateid", "type", "topic", "payload", "headers",
        "created_at", "published_at", "attempts", "last_error",
    ]


def test_a_retry_time_survives_the_move_to_its_own_table_and_back(empty_database):
    config = database.alembic_config(empty_database)
    command.upgrade(config, "0003_relay")
    engine = create_engine(empty_database)
    insert_row = text(
        "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload, attempts, next_attempt_at)"
        " VALUES (gen_random_uuid(), 'order', '1', 'order.processed', 't', '{}', 1, '2030-01-01T00:00:00Z')"
    )
    try:
        with engine.begin() as conn:
            conn.execute(insert_row)
        command.upgrade(config, "head")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM outbox_retry WHERE next_attempt_at = '2030-01-01T00:00:00Z'")).scalar_one() == 1
        command.downgrade(config, "0003_relay")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM outbox WHERE next_attempt_at = '2030-01-01T00:00:00Z'")).scalar_one() == 1
    finally:
        engine.dispose()


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
