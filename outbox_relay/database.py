"""The relay's connection pool, and its transactions in as few round trips as they can take.

Each round trip wakes a PostgreSQL backend, and on a quiet server that wake costs more CPU than
the statement it carries (bench/relay_cost.py). So the relay's connections run in autocommit at
the driver, and the relay writes its own `BEGIN` and `COMMIT`: `BEGIN` goes with the claim, and
the `COMMIT` of a batch can go with the next claim (`claim.py`) instead of in a round trip of its
own. A connection given back to the pool with its transaction still open is rolled back on the
way (`_end_open_transaction`): uncommitted marks are never left behind, and rows stay pending.

Its sessions run with `synchronous_commit = off`: a mark committed but lost in a PostgreSQL crash
leaves the row pending, so it is published again (a duplicate), never lost. The rows themselves
are written by the payment's own transaction, whose durability this does not touch.

`plan_cache_mode = force_generic_plan`: the claim, prepared once per session (`claim.py`), is
planned once, not on every drain; the relay prepares no other statement.
"""
from psycopg2.extensions import TRANSACTION_STATUS_IDLE
from sqlalchemy import Connection, Engine, event

from common.db import driver_execute, make_engine
from outbox_relay.config import Settings


APPLICATION_NAME = "outbox_relay"  # the relay's sessions in pg_stat_activity, its LISTEN one too (wakeup.py)


def build_engine(settings: Settings) -> Engine:
    engine = make_engine(
        settings.database_url,
        application_name=APPLICATION_NAME,
        pool_size=3,  # the batch in flight, the next one being claimed, housekeeping
        max_overflow=2,
        # no `SELECT 1` before every checkout (one more round trip per drain): a connection found dead
        # fails its statement, is dropped with the whole pool, and the relay backs off (`errors.py`)
        pool_pre_ping=False,
        # the driver sends no BEGIN of its own (a round trip per transaction): the relay's statements
        # say where its transactions begin and end
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5, "options": "-c synchronous_commit=off -c plan_cache_mode=force_generic_plan"},
    )
    event.listen(engine, "reset", _end_open_transaction)
    return engine


def commit(conn: Connection) -> None:
    """COMMIT the transaction the relay began on `conn` (its own round trip)."""
    driver_execute(conn, "COMMIT").close()


def _end_open_transaction(dbapi_connection, _record, _state) -> None:
    """On the way back to the pool: roll back what the relay began and did not commit. The driver's
    own rollback does nothing in autocommit; a failure here makes the pool discard the connection."""
    if dbapi_connection.info.transaction_status != TRANSACTION_STATUS_IDLE:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("ROLLBACK")
