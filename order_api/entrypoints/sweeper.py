"""The expiry sweep, run periodically in a daemon thread of every gunicorn worker.

Each tick runs in its own transaction that first takes a transaction-scoped advisory lock
(pg_try_advisory_xact_lock): whichever worker gets it sweeps, the others skip that tick, so the
work is never duplicated across workers or across several `order-api` instances, and a crashed
worker never leaves the lock held. Due orders are also claimed with SKIP LOCKED, so even
an overlapping one-shot `order-api expire-orders` is harmless. Expired idempotency keys are purged
under the same lock.
"""
import threading
from datetime import datetime, timezone

import structlog
from sqlalchemy.orm import Session, sessionmaker

from order_api.adapters.database import in_transaction
from order_api.config import Settings
from order_api.service_layer import expiry, idempotency

log = structlog.get_logger()


def sweep_once(sessions: sessionmaker[Session], settings: Settings) -> int:
    """Expire every due order (batch after batch) and purge expired idempotency keys."""
    total = 0
    while True:
        def tick(session: Session) -> int | None:
            now = datetime.now(timezone.utc)
            expired = expiry.sweep_if_leader(session, now=now, batch_size=settings.expiry_sweep_batch_size)
            if expired is not None and expired < settings.expiry_sweep_batch_size:
                idempotency.purge_expired(session, now=now)
            return expired

        expired = in_transaction(sessions, tick, attempts=settings.transaction_retries)
        total += expired or 0
        if not expired or expired < settings.expiry_sweep_batch_size:
            return total


class ExpirySweeper(threading.Thread):
    def __init__(self, sessions: sessionmaker[Session], settings: Settings):
        super().__init__(name="expiry-sweeper", daemon=True)
        self.sessions, self.settings = sessions, settings
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.settings.expiry_sweep_interval_seconds):
            try:
                expired = sweep_once(self.sessions, self.settings)
                if expired:
                    log.info("orders_expired", count=expired)
            except Exception:
                log.exception("expiry_sweep_failed")

    def stop(self) -> None:
        self.stopping.set()
