"""One MetaData for every table (with a naming convention, so Alembic migrations are deterministic),
the engine factory, and `driver_execute` for the few hot statements that skip SQLAlchemy's execution."""
from typing import Any

from sqlalchemy import Connection, MetaData, create_engine, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def session_name(url: str, application_name: str | None) -> dict[str, str]:
    """The connect argument that names a session in pg_stat_activity, unless the URL names it already:
    an operator sees which service holds a lock, waits or burns CPU, and the soak attributes CPU by it."""
    if not application_name or "application_name" in make_url(url).query:
        return {}
    return {"application_name": application_name}


def make_engine(url: str, application_name: str | None = None, **kwargs) -> Engine:
    """An engine whose sessions carry `application_name` (see `session_name`)."""
    kwargs.setdefault("pool_pre_ping", True)
    kwargs["connect_args"] = {**session_name(url, application_name), **kwargs.get("connect_args", {})}
    return create_engine(url, **kwargs)


def driver_execute(connection: Connection, statement: str, parameters: tuple | dict = ()) -> Any:
    """Run `statement` on the connection's DBAPI cursor, in its transaction; returns the cursor.

    For hot statements: no compilation, no result objects. A failure still reaches the caller as
    SQLAlchemy's DBAPIError subclass (so deadlocks are retried and outages become 503s as for any
    statement), and a dropped connection is invalidated together with the pool it came from (its
    other connections predate the same database restart), as SQLAlchemy does itself.
    """
    dbapi_connection = connection.connection
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(statement, parameters)
    except connection.dialect.loaded_dbapi.Error as error:
        dropped = connection.dialect.is_disconnect(error, dbapi_connection.dbapi_connection, cursor)
        if dropped:
            connection.invalidate(error)
            connection.engine.dispose(close=False)  # a fresh pool; the old one's connections are left to close
        raise DBAPIError.instance(
            statement, parameters, error, connection.dialect.loaded_dbapi.Error,
            connection_invalidated=dropped, dialect=connection.dialect,
        ) from error
    return cursor
