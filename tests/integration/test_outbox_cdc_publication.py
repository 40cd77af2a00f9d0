"""A CDC connector reads the partitioned outbox through its root: a publication WITH
(publish_via_partition_root = true) sends every partition's inserts as rows of `outbox`, so the
connector sees one table whatever partitions pg_partman adds or drops. Needs wal_level=logical
and a role with REPLICATION (STACK_PG_WAL_LEVEL=logical); skipped otherwise."""
import uuid

import psycopg2
import pytest

from outbox_relay.wakeup import libpq_dsn


@pytest.fixture
def partitioned_database_url(test_env):
    from alembic import command

    from harness import database

    name = f"{test_env.database_name}_cdc"
    url = test_env.database_url.replace(test_env.database_name, name)
    database.create_database(test_env.base_database_url, name)
    command.upgrade(database.alembic_config(url, outbox_layout="partitioned"), "head")
    yield url
    database.drop_database(test_env.base_database_url, name)


@pytest.fixture
def logical_connection(partitioned_database_url):
    conn = psycopg2.connect(libpq_dsn(partitioned_database_url))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT current_setting('wal_level'), rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user")
        wal_level, may_replicate = cursor.fetchone()
    if wal_level != "logical" or not may_replicate:
        conn.close()
        pytest.skip(f"wal_level is {wal_level} (replication allowed: {may_replicate}); start PostgreSQL with "
                    "STACK_PG_WAL_LEVEL=logical (stack/native.sh stop postgres; STACK_PG_WAL_LEVEL=logical stack/native.sh start postgres)")
    yield conn
    conn.close()


def test_a_publication_via_the_root_sends_partition_inserts_as_rows_of_outbox(logical_connection):
    name = f"outbox_cdc_{uuid.uuid4().hex[:8]}"
    with logical_connection.cursor() as cursor:
        cursor.execute(f"CREATE PUBLICATION {name} FOR TABLE outbox WITH (publish_via_partition_root = true)")
        try:
            cursor.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput', true)", (name,))
            cursor.execute(
                "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload)"
                " VALUES (gen_random_uuid(), 'order', 'cdc', 'order.processed', 't', '{}')"
            )
            cursor.execute(
                "SELECT data FROM pg_logical_slot_peek_binary_changes(%s, NULL, NULL,"
                " 'proto_version', '1', 'publication_names', %s)", (name, name))
            messages = [bytes(data) for (data,) in cursor.fetchall()]
            cursor.execute("SELECT tableoid::regclass::text FROM outbox WHERE aggregateid = 'cdc'")
            partition = cursor.fetchone()[0]
        finally:
            cursor.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s", (name,))
            cursor.execute(f"DROP PUBLICATION {name}")

    # pgoutput: Relation 'R' = relid (int32), namespace, name, ...; Insert 'I' = relid (int32), tuple.
    # It announces the partition's schema too, but the row itself comes as a row of the root.
    names = {m[1:5]: m[5:].split(b"\x00")[1].decode() for m in messages if m[:1] == b"R"}
    inserts = [m for m in messages if m[:1] == b"I"]
    assert partition != "outbox", "the row went to a partition"
    assert len(inserts) == 1 and b"cdc" in inserts[0]
    assert names[inserts[0][1:5]] == "outbox"
