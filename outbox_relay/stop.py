"""Stopping the relay: SIGTERM and SIGINT only set a flag and wake the loop through the signal
wakeup fd. The loop then finishes its batch, waiting at most RELAY_SHUTDOWN_GRACE_SECONDS for the
broker's answers before releasing the unanswered rows (they stay pending).
"""
import signal
import socket
import time


class Stop:
    """Set by a signal; `grace_over` tells a waiting publish to give up on unanswered records."""

    def __init__(self, grace_seconds: float):
        self.grace_seconds = grace_seconds
        self.requested_at: float | None = None

    def request(self, *_args) -> None:
        if self.requested_at is None:
            self.requested_at = time.monotonic()

    @property
    def requested(self) -> bool:
        return self.requested_at is not None

    def grace_over(self) -> bool:
        return self.requested and time.monotonic() - self.requested_at >= self.grace_seconds


def install_signal_handlers(stop: Stop) -> tuple[socket.socket, socket.socket]:
    """Returns (reader, writer): the reader becomes readable when a signal arrives; keep both open."""
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    signal.signal(signal.SIGTERM, stop.request)
    signal.signal(signal.SIGINT, stop.request)
    return reader, writer
