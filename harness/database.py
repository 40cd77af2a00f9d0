"""A database of the test run's own, migrated with Alembic, dropped at the end."""
from pathlib import Path

from alembic.config import Config
from sqlalchemy import create_engine, text
from tenacity import retry, stop_after_delay, wait_fixed

ROOT = Path(__file__).resolve().parents[1]


def alembic_config(database_url: str, outbox_layout: str | None = None) -> Config:
    """`outbox_layout`: plain or partitioned, for migration 0005 (default: OUTBOX_LAYOUT, else plain)."""
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    if outbox_layout is not None:
        config.attributes["outbox_layout"] = outbox_layout
    config.attributes["configure_logger"] = False
    return config


def create_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


@retry(stop=stop_after_delay(60), wait=wait_fixed(0.5), reraise=True)
def drop_database(admin_url: str, name: str) -> None:
    """Retried: DROP ... WITH (FORCE) fails while an autovacuum worker (a superuser backend) is in it."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def restart_identities(database_url: str, start: int) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        columns = conn.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND is_identity = 'YES'"
            )
        ).all()
        for table, column in columns:
            conn.execute(text(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" RESTART WITH {start}'))
    engine.dispose()


def scalar(engine, sql: str, **params):
    """The single value of one read-only query (tests compare it with what they expect)."""
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()
