"""The relay's parts wired as the console script wires them, driven one batch at a time."""
from outbox_relay.config import Settings
from outbox_relay.database import build_engine
from outbox_relay.publish import Publisher
from outbox_relay.runner import Relay, Stop
from outbox_relay.wakeup import Wakeup


def make_relay(settings: Settings) -> Relay:
    engine = build_engine(settings)
    return Relay(settings, engine, Publisher(settings), Wakeup(settings.database_url), Stop(settings.shutdown_grace_seconds))


def close(relay: Relay) -> None:
    relay.close()
    relay.engine.dispose()
