"""bench.relay_cost's Debezium comparison refuses a PostgreSQL that cannot decode logically, with
the way to restart it, before it starts anything (bench/cdc.py)."""
import psycopg2
import pytest

from bench.cdc import CdcUnavailable, require_logical
from outbox_relay.wakeup import libpq_dsn


def test_require_logical_agrees_with_the_server(database_url):
    dsn = libpq_dsn(database_url)
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT current_setting('wal_level') = 'logical' AND rolreplication "
                           "FROM pg_roles WHERE rolname = current_user")
            can_decode = cursor.fetchone()[0]
    finally:
        conn.close()
    if can_decode:
        require_logical(dsn)
    else:
        with pytest.raises(CdcUnavailable, match="STACK_PG_WAL_LEVEL=logical"):
            require_logical(dsn)
