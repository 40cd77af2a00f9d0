"""The relay's composition root: the one place its parts are wired together.

The console script, the benchmarks and the tests all build their relay here, so each of them runs
the same pool, producer, wake-up and stop flag as production.
"""
import socket

from outbox_relay.config import Settings
from outbox_relay.database import build_engine
from outbox_relay.publish import Publisher
from outbox_relay.runner import Relay
from outbox_relay.stop import Stop
from outbox_relay.wakeup import Wakeup


def build_relay(settings: Settings, stop: Stop | None = None, signal_socket: socket.socket | None = None) -> Relay:
    """A relay on its own pool; `Relay.close` gives everything back. Pass the stop flag and the
    signal socket from `install_signal_handlers` when signals should stop it."""
    return Relay(
        settings,
        build_engine(settings),
        Publisher(settings),
        Wakeup(settings.database_url, signal_socket, listen=settings.wakeup == "notify"),
        stop or Stop(settings.shutdown_grace_seconds),
    )
