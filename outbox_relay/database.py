"""The relay's connection pool.

Its sessions run with `synchronous_commit = off`: a mark committed but lost in a PostgreSQL crash
leaves the row pending, so it is published again (a duplicate), never lost. The rows themselves
are written by the payment's own transaction, whose durability this does not touch.

`plan_cache_mode = force_generic_plan`: the claim, prepared once per session (`claim.py`), is
planned once, not on every drain; the relay prepares no other statement.
"""
from sqlalchemy import Engine

from common.db import make_engine
from outbox_relay.config import Settings


def build_engine(settings: Settings) -> Engine:
    return make_engine(
        settings.database_url,
        pool_size=3,  # the batch in flight, the next one being claimed, housekeeping
        max_overflow=2,
        # no `SELECT 1` before every checkout (one more round trip per drain): a connection found dead
        # fails its statement, is dropped with the whole pool, and the relay backs off (`errors.py`)
        pool_pre_ping=False,
        connect_args={"connect_timeout": 5, "options": "-c synchronous_commit=off -c plan_cache_mode=force_generic_plan"},
    )
