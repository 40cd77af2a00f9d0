"""Settings of the outbox relay, read once from the environment at start-up.

Shared names (DATABASE_URL and the KAFKA_* of common/kafka_connection.py) come as DESIGN.md
spells them; every other setting has the RELAY_ prefix and a safe default.
"""
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import SettingsConfigDict

from common import defaults
from common.kafka_connection import KafkaConnection

# One pair of names set both backoffs until they got their own; read as aliases for one release.
_OLD_BACKOFF_INITIAL, _OLD_BACKOFF_MAX = "RELAY_BACKOFF_INITIAL_SECONDS", "RELAY_BACKOFF_MAX_SECONDS"


class Settings(KafkaConnection):
    model_config = SettingsConfigDict(env_prefix="RELAY_")

    database_url: str = Field(defaults.DATABASE_URL, validation_alias="DATABASE_URL")

    # One batch is in flight at a time, so a crash re-sends at most this many rows. Draining 100,000
    # rows on 2 cores (bench.relay_drain): ~23k rows/s at 1,000, ~26-28k at 2,000 and 4,000, the raw
    # producer ~30-33k in the same runs; two or three batches in flight were slower, not faster.
    batch_size: int = Field(2000, gt=0)
    # notify: LISTEN for the outbox trigger's NOTIFY, poll only as a fallback. poll: no LISTEN, look
    # every RELAY_POLL_INTERVAL_SECONDS, so the trigger (and the global lock its NOTIFY takes at every
    # payment's commit) can be disabled; see README, "Wake-up: notify or poll".
    wakeup: Literal["notify", "poll"] = "notify"
    poll_interval_seconds: float = Field(1.0, gt=0)
    # Under a steady stream a drain starts at most this often, so each one carries the rows of the
    # whole interval instead of one or two (claim, send, mark and commit cost about the same for 1
    # row as for 20). After a quiet spell the first row still goes at once. 0 turns it off.
    min_drain_interval_ms: float = Field(10.0, ge=0)
    # While rows flow the relay looks for them once per interval above instead of being woken by every
    # payment's NOTIFY (each wakes a PostgreSQL backend); after this long without a row it listens
    # again (pacing.Looking). The acknowledged last batch's COMMIT waits for the next look meanwhile.
    listen_after_quiet_ms: float = Field(50.0, ge=0)
    # The claim is a session's prepared statement (planned once, not per drain). Turn it off behind a
    # pooler in transaction mode (PgBouncer's pool_mode=transaction), where the next transaction may
    # run on another server session that never saw the PREPARE.
    prepare_claim: bool = True
    # The whole relay's backoff while the broker or the database is away (outage.py), and a refused
    # row's wait before its next attempt (retry_schedule.py).
    outage_backoff_initial_seconds: float = Field(
        0.5, gt=0, validation_alias=AliasChoices("RELAY_OUTAGE_BACKOFF_INITIAL_SECONDS", _OLD_BACKOFF_INITIAL)
    )
    outage_backoff_max_seconds: float = Field(
        10.0, gt=0, validation_alias=AliasChoices("RELAY_OUTAGE_BACKOFF_MAX_SECONDS", _OLD_BACKOFF_MAX)
    )
    row_retry_initial_seconds: float = Field(
        0.5, gt=0, validation_alias=AliasChoices("RELAY_ROW_RETRY_INITIAL_SECONDS", _OLD_BACKOFF_INITIAL)
    )
    row_retry_max_seconds: float = Field(
        10.0, gt=0, validation_alias=AliasChoices("RELAY_ROW_RETRY_MAX_SECONDS", _OLD_BACKOFF_MAX)
    )
    shutdown_grace_seconds: float = Field(5.0, ge=0)

    retention_hours: float = Field(168, gt=0)
    retention_batch_size: int = Field(1000, gt=0)
    retention_interval_seconds: float = Field(300.0, gt=0)
    # On the partitioned outbox a day's partition is dropped under an ACCESS EXCLUSIVE lock on
    # `outbox`, which payments queue behind while it waits: it waits at most this long, and is tried
    # again this many seconds later (partitions.py).
    partition_lock_timeout_ms: int = Field(200, gt=0)
    partition_lock_retry_seconds: float = Field(10.0, gt=0)

    metrics_host: str = "0.0.0.0"
    metrics_port: int = 9101
    stats_interval_seconds: float = Field(5.0, gt=0)

    linger_ms: int = Field(5, ge=0)
    producer_batch_size: int = Field(262144, gt=0)
    compression_type: str | None = None
    request_timeout_ms: int = Field(5000, gt=0)
    delivery_timeout_ms: int = Field(10000, gt=0)
    max_block_ms: int = Field(5000, gt=0)

    log_level: str = "INFO"
    kafka_log_level: str = "CRITICAL"

    @model_validator(mode="after")
    def _delivery_timeout_covers_one_request(self) -> "Settings":
        if self.delivery_timeout_ms < self.request_timeout_ms + self.linger_ms:
            raise ValueError("RELAY_DELIVERY_TIMEOUT_MS must be >= RELAY_REQUEST_TIMEOUT_MS + RELAY_LINGER_MS")
        return self
