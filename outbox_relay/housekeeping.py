"""The relay's chores between batches: the backlog gauges every RELAY_STATS_INTERVAL_SECONDS and
retention every RELAY_RETENTION_INTERVAL_SECONDS. A chore that fails is logged and tried again
at its next turn; it never stops publishing.
"""
import time

import structlog
from sqlalchemy import Engine

from outbox_relay import metrics
from outbox_relay.config import Settings
from outbox_relay.errors import DatabaseUnavailable, database_errors
from outbox_relay.retention import delete_published

log = structlog.get_logger(__name__)


class Housekeeping:
    def __init__(self, settings: Settings, engine: Engine):
        self.settings = settings
        self.engine = engine
        self._next_stats = 0.0
        self._next_retention = 0.0

    def run_due(self) -> None:
        now = time.monotonic()
        try:
            with database_errors():
                if now >= self._next_stats:
                    self._next_stats = now + self.settings.stats_interval_seconds
                    self._refresh_backlog()
                if now >= self._next_retention:
                    self._next_retention = now + self.settings.retention_interval_seconds
                    self._delete_expired()
        except DatabaseUnavailable as error:
            log.warning("relay.housekeeping_failed", error=str(error))

    def _refresh_backlog(self) -> None:
        with self.engine.connect() as conn:
            metrics.refresh_backlog(conn)

    def _delete_expired(self) -> None:
        deleted = delete_published(self.engine, self.settings.retention_hours, self.settings.retention_batch_size)
        if deleted:
            log.info("relay.retention", deleted=deleted)
