"""Waking the relay: on NOTIFY outbox_pending, on a signal, or after the fallback poll interval.

The 0001 migration's trigger notifies `outbox_pending` once per inserting statement, delivered by
PostgreSQL at commit, so an idle relay publishes within milliseconds of a commit. A lost
notification (the LISTEN connection dropped, a notify before LISTEN) only delays until the next
poll: the claim query, not the notification, decides what is pending. After LISTEN (re)starts,
`wait` returns at once, so a commit made before LISTEN began is not left to the poll.

With RELAY_WAKEUP=poll (`listen=False`) there is no LISTEN: `wait` only sleeps out its timeout (the
poll interval) or a signal, so the relay looks every interval whether the trigger exists or not.

While rows flow the relay looks on its own clock (`pacing.Looking`) and `mute`s the wake-up: UNLISTEN,
so payments' NOTIFYs stop waking the listening backend. The next `wait` listens again and, like any
restart of LISTEN, returns at once.
"""
import select
import socket

import psycopg2
import psycopg2.extensions
import structlog
from sqlalchemy.engine import make_url

from common.db import session_name
from common.outbox import NOTIFY_CHANNEL
from outbox_relay.database import APPLICATION_NAME

log = structlog.get_logger(__name__)


def libpq_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class Wakeup:
    """`wait` returns early on a notification or signal; `pause` only on a signal."""

    def __init__(self, database_url: str, signal_socket: socket.socket | None = None, listen: bool = True):
        self._dsn = libpq_dsn(database_url)
        self._named = session_name(database_url, APPLICATION_NAME)
        self._signal_socket = signal_socket
        self._listen = listen
        self._conn = None
        self._muted = False

    def wait(self, timeout: float) -> None:
        """Returns at once if LISTEN had to be (re)started: notifications sent before it began are
        lost, so the caller should look once more."""
        if not self._listen:
            self.pause(timeout)
            return
        if self._conn is None or self._muted:
            if self._listening() is None:
                self.pause(timeout)
            return
        conn = self._conn
        readable = self._select([conn], timeout)
        self._drain_signal(readable)
        if conn in readable:
            self._drain_notifications(conn)

    def mute(self) -> None:
        """Stop listening until the next `wait` (one round trip, only when it was listening)."""
        if self._conn is None or self._muted:
            return
        try:
            self._conn.cursor().execute(f"UNLISTEN {NOTIFY_CHANNEL}")
            self._muted = True
        except psycopg2.Error:
            self.close()

    def pause(self, timeout: float) -> None:
        self._drain_signal(self._select([], timeout))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._muted = False

    def _select(self, sources: list, timeout: float) -> list:
        if self._signal_socket is not None:
            sources = [*sources, self._signal_socket]
        readable, _, _ = select.select(sources, [], [], timeout)
        return readable

    def _drain_signal(self, readable: list) -> None:
        if self._signal_socket is not None and self._signal_socket in readable:
            try:
                self._signal_socket.recv(4096)
            except BlockingIOError:
                pass

    def _listening(self):
        """LISTEN on the connection (a new one if there is none, or if the muted one was lost
        meanwhile); None if that failed."""
        if self._conn is not None:
            try:
                return self._listen_on(self._conn)
            except psycopg2.Error:
                self.close()
        try:
            self._conn = psycopg2.connect(self._dsn, connect_timeout=5, **self._named)
            self._conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
            return self._listen_on(self._conn)
        except psycopg2.Error as error:
            log.warning("relay.listen_failed", error=str(error).strip())
            self.close()
            return None

    def _listen_on(self, conn):
        conn.cursor().execute(f"LISTEN {NOTIFY_CHANNEL}")
        conn.notifies.clear()  # from before it was muted: the caller looks once more anyway
        self._muted = False
        return conn

    def _drain_notifications(self, conn) -> None:
        try:
            conn.poll()
        except psycopg2.Error:
            self.close()
            return
        conn.notifies.clear()
