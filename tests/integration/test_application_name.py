"""Each service's database sessions carry its name in pg_stat_activity, unless DATABASE_URL names them."""
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from order_api.adapters.database import engine_for
from order_api.config import Settings as ApiSettings
from outbox_relay.config import Settings as RelaySettings
from outbox_relay.database import build_engine
from outbox_relay.wakeup import Wakeup


def _names_in_pg_stat_activity(database_url: str) -> list[str]:
    observer = create_engine(database_url, pool_size=1)
    with observer.connect() as conn:
        names = conn.execute(text("SELECT application_name FROM pg_stat_activity WHERE datname = current_database() "
                                  "AND pid <> pg_backend_pid()")).scalars().all()
    observer.dispose()
    return names


def _own_name(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT current_setting('application_name')")).scalar_one()


def test_the_api_and_the_relay_name_their_sessions(database_url):
    api = engine_for(ApiSettings(DATABASE_URL=database_url, ADMIN_TOKEN="x"))
    relay = build_engine(RelaySettings(DATABASE_URL=database_url))
    wakeup = Wakeup(database_url)
    try:
        assert (_own_name(api), _own_name(relay)) == ("order_api", "outbox_relay")
        wakeup.wait(0.01)  # LISTENs on a connection of its own
        assert "outbox_relay" in _names_in_pg_stat_activity(database_url)
        with relay.connect() as held:  # a session the relay holds is seen as the relay's
            held.execute(text("SELECT 1"))
            assert _names_in_pg_stat_activity(database_url).count("outbox_relay") >= 2
    finally:
        wakeup.close()
        api.dispose()
        relay.dispose()


def test_a_name_in_database_url_is_kept(database_url):
    named = make_url(database_url).update_query_dict({"application_name": "relay-eu-1"}).render_as_string(hide_password=False)
    relay = build_engine(RelaySettings(DATABASE_URL=named))
    api = engine_for(ApiSettings(DATABASE_URL=named, ADMIN_TOKEN="x"))
    wakeup = Wakeup(named)
    try:
        assert (_own_name(relay), _own_name(api)) == ("relay-eu-1", "relay-eu-1")
        wakeup.wait(0.01)
        assert "relay-eu-1" in _names_in_pg_stat_activity(database_url)
    finally:
        wakeup.close()
        relay.dispose()
        api.dispose()
