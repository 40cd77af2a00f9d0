"""The relay's chores: the backlog gauges every RELAY_STATS_INTERVAL_SECONDS (between batches) and
retention every RELAY_RETENTION_INTERVAL_SECONDS (between drains, with no transaction of the relay
open, `runner.py`). A chore that fails is logged and tried again at its next turn; it never stops
publishing.

Retention by layout: on the plain table (migration 0004) published rows older than the retention
are deleted in batches (`retention.py`); on the partitioned one (0005) whole days are dropped by
pg_partman (`partitions.py`), and only what a drop must leave (a day holding a pending row, the
default partition) is deleted row by row. A drop that did not get its lock in time is tried again
after RELAY_PARTITION_LOCK_RETRY_SECONDS rather than a whole interval later.
"""
import time

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from outbox_relay import metrics
from outbox_relay.config import Settings
from outbox_relay.errors import DatabaseUnavailable, database_errors
from outbox_relay.partitions import PartitionLockBusy, is_partitioned, maintain
from outbox_relay.retention import delete_published

log = structlog.get_logger(__name__)


class Housekeeping:
    def __init__(self, settings: Settings, engine: Engine):
        self.settings = settings
        self.engine = engine
        self._next_stats = 0.0
        self._next_retention = 0.0

    def run_due(self) -> None:
        """The backlog gauges, if due; safe between batches, inside a drain."""
        now = time.monotonic()
        if now < self._next_stats:
            return
        self._next_stats = now + self.settings.stats_interval_seconds
        self._safely(self._refresh_backlog)

    def retention_due(self) -> bool:
        return time.monotonic() >= self._next_retention

    def run_retention(self) -> None:
        """Retention, now; the caller holds no transaction on `outbox` (a partition drop would wait for it).
        A statement pg_partman's maintenance fails with (a row in the default partition inside a day it
        would make, say) is logged and tried at the next turn: it never stops publishing."""
        self._next_retention = time.monotonic() + self.settings.retention_interval_seconds
        try:
            self._safely(self._retain)
        except DBAPIError as error:
            log.error("relay.retention_failed", error=str(error.orig or error).strip())

    def _safely(self, chore) -> None:
        try:
            with database_errors():
                chore()
        except DatabaseUnavailable as error:
            log.warning("relay.housekeeping_failed", error=str(error))

    def _refresh_backlog(self) -> None:
        with self.engine.connect() as conn:
            metrics.refresh_backlog(conn)

    def _retain(self) -> None:
        with self.engine.connect() as conn:
            partitioned = is_partitioned(conn)
        if not partitioned:
            self._delete_expired("outbox")
            return
        try:
            done = maintain(self.engine, self.settings.retention_hours, self.settings.partition_lock_timeout_ms)
        except PartitionLockBusy as error:
            self._next_retention = time.monotonic() + self.settings.partition_lock_retry_seconds
            log.info("relay.partition_maintenance_postponed", reason=str(error))
            return
        if done.dropped or done.kept or done.orphan_retries_deleted:
            log.info("relay.partitions_dropped", dropped=done.dropped, kept_with_pending_rows=done.kept,
                     orphan_retries_deleted=done.orphan_retries_deleted)
        for partition in done.leftovers():
            self._delete_expired(partition)

    def _delete_expired(self, table: str) -> None:
        deleted = delete_published(self.engine, self.settings.retention_hours, self.settings.retention_batch_size, table=table)
        if deleted:
            log.info("relay.retention", deleted=deleted, table=table)
