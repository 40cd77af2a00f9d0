"""Alembic migrations go up from an empty database and all the way down again."""
import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

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


# ------------------------------------------------------------------ 0005: the outbox partitioned by day

ROWS = text("SELECT id, event_id, aggregateid, created_at, published_at, attempts, last_error FROM outbox ORDER BY id")


def write_rows(engine, count: int) -> None:
    """Rows over the last three days: published ones, pending ones, and one pending with a retry time."""
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload, created_at, published_at)"
            " SELECT gen_random_uuid(), 'order', (g % 7)::text, 'order.processed', 't', '{}',"
            "   now() - make_interval(hours => 72 - g), CASE WHEN g < :published THEN now() - make_interval(hours => 71 - g) END"
            " FROM generate_series(1, :count) AS g"
        ), {"count": count, "published": count - 4})
        failed = conn.execute(text("SELECT max(id) FROM outbox")).scalar_one()
        conn.execute(text("UPDATE outbox SET attempts = 2, last_error = 'refused' WHERE id = :id"), {"id": failed})
        conn.execute(text("INSERT INTO outbox_retry (outbox_id, next_attempt_at) VALUES (:id, '2030-01-01T00:00:00Z')"), {"id": failed})


def snapshot(engine) -> tuple[list, list]:
    with engine.connect() as conn:
        return conn.execute(ROWS).all(), conn.execute(text("SELECT * FROM outbox_retry ORDER BY outbox_id")).all()


def is_partitioned(engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT relkind = 'p' FROM pg_class WHERE oid = 'outbox'::regclass")).scalar_one()


def claimable_ids(engine) -> list[int]:
    """What the relay's own claim takes (rolled back), on whichever layout the database has."""
    from outbox_relay.claim import claim_batch

    relay_engine = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    try:
        with relay_engine.connect() as conn:
            claimed = [row.id for row in claim_batch(conn, 100)]
            conn.exec_driver_sql("ROLLBACK")
        return claimed
    finally:
        relay_engine.dispose()


def test_partitioning_keeps_every_row_id_event_id_and_retry_and_the_relay_claims_after_it(empty_database):
    config = database.alembic_config(empty_database, outbox_layout="partitioned")
    command.upgrade(config, "0004_outbox_retry")
    engine = create_engine(empty_database)
    try:
        write_rows(engine, 40)
        before = snapshot(engine)
        claimable_before = claimable_ids(engine)

        command.upgrade(config, "0005_outbox_partitioned")

        assert is_partitioned(engine)
        assert snapshot(engine) == before
        assert claimable_ids(engine) == claimable_before != []
        with engine.begin() as conn:
            new_id = conn.execute(text(
                "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload)"
                " VALUES (gen_random_uuid(), 'order', 'x', 'order.processed', 't', '{}') RETURNING id")).scalar_one()
            partitions = conn.execute(text("SELECT count(*) FROM pg_partition_tree('outbox') WHERE isleaf")).scalar_one()
        assert new_id > before[0][-1].id, "the identity continues after the old rows"
        assert partitions >= 3 + 1 + 7 + 1, "a partition per day from the oldest row's, a week ahead, and the default"
    finally:
        engine.dispose()


def test_going_back_to_the_plain_table_keeps_every_row_and_the_foreign_key(empty_database):
    config = database.alembic_config(empty_database, outbox_layout="partitioned")
    command.upgrade(config, "0004_outbox_retry")
    engine = create_engine(empty_database)
    try:
        write_rows(engine, 40)
        command.upgrade(config, "head")
        with engine.begin() as conn:  # a row written on the partitioned table goes back too
            conn.execute(text(
                "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload)"
                " VALUES (gen_random_uuid(), 'order', 'y', 'order.processed', 't', '{}')"))
        before = snapshot(engine)
        claimable_before = claimable_ids(engine)

        command.downgrade(config, "0004_outbox_retry")

        assert not is_partitioned(engine)
        assert snapshot(engine) == before
        assert claimable_ids(engine) == claimable_before != []
        with engine.connect() as conn:
            foreign_keys = inspect(conn).get_foreign_keys("outbox_retry")
            last_id = conn.execute(text("SELECT max(id) FROM outbox")).scalar_one()
        assert [fk["referred_table"] for fk in foreign_keys] == ["outbox"]
        with engine.begin() as conn:
            new_id = conn.execute(text(
                "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload)"
                " VALUES (gen_random_uuid(), 'order', 'z', 'order.processed', 't', '{}') RETURNING id")).scalar_one()
        assert new_id > last_id
    finally:
        engine.dispose()


def test_the_partitioned_outbox_notifies_on_insert_and_refuses_an_event_id_twice_in_a_partition(empty_database):
    import select

    import psycopg2

    from outbox_relay.wakeup import libpq_dsn

    command.upgrade(database.alembic_config(empty_database, outbox_layout="partitioned"), "head")
    listener = psycopg2.connect(libpq_dsn(empty_database))
    listener.autocommit = True
    engine = create_engine(empty_database)
    insert = text(
        "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload, created_at)"
        " VALUES ('6f1c2a0e-0000-4000-8000-000000000001', 'order', '1', 'order.processed', 't', '{}', '2030-01-01T00:00:00Z')"
    )
    try:
        listener.cursor().execute("LISTEN outbox_pending")
        with engine.begin() as conn:
            conn.execute(insert)
        select.select([listener], [], [], 5)
        listener.poll()
        assert [n.channel for n in listener.notifies] == ["outbox_pending"]
        with pytest.raises(IntegrityError, match=r"(?s)duplicate key.*Key \(event_id"):
            with engine.begin() as conn:
                conn.execute(insert)
        # the same event_id a second later, the same day: refused too (not only the same instant)
        later = text(str(insert).replace("00:00:00Z", "00:00:01Z"))
        with pytest.raises(IntegrityError, match=r"(?s)duplicate key.*Key \(event_id\)"):
            with engine.begin() as conn:
                conn.execute(later)
        # a day pg_partman makes after the migration gets the index from the template table
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM outbox"))  # a row of 2030 would have pg_partman make that day
            conn.execute(text("UPDATE partman.part_config SET premake = premake + 3 WHERE parent_table = 'public.outbox'"))
            conn.execute(text("SELECT partman.run_maintenance('public.outbox')"))
        with engine.connect() as conn:
            without = conn.execute(text(
                "SELECT t.relid::regclass::text FROM pg_partition_tree('outbox') t WHERE t.isleaf AND NOT EXISTS ("
                " SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
                " WHERE i.indrelid = t.relid AND i.indisunique AND i.indnatts = 1 AND a.attname = 'event_id')"
            )).scalars().all()
            leaves = conn.execute(text("SELECT count(*) FROM pg_partition_tree('outbox') WHERE isleaf")).scalar()
        assert leaves > 9 and without == []
    finally:
        listener.close()
        engine.dispose()


def test_an_unknown_outbox_layout_stops_the_migration_and_changes_nothing(empty_database):
    config = database.alembic_config(empty_database, outbox_layout="sharded")
    command.upgrade(config, "0004_outbox_retry")
    engine = create_engine(empty_database)
    try:
        write_rows(engine, 5)
        before = snapshot(engine)
        with pytest.raises(ValueError, match="OUTBOX_LAYOUT .* must be one of plain, partitioned, not 'sharded'"):
            command.upgrade(config, "head")
        assert not is_partitioned(engine)
        assert snapshot(engine) == before
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0004_outbox_retry"
    finally:
        engine.dispose()


def test_the_plain_layout_is_the_default_and_downgrading_it_changes_nothing(empty_database):
    config = database.alembic_config(empty_database)
    command.upgrade(config, "0004_outbox_retry")
    engine = create_engine(empty_database)
    try:
        write_rows(engine, 5)
        before = snapshot(engine)
        command.upgrade(config, "head")
        assert not is_partitioned(engine) and snapshot(engine) == before
        command.downgrade(config, "0004_outbox_retry")
        assert not is_partitioned(engine) and snapshot(engine) == before
    finally:
        engine.dispose()
