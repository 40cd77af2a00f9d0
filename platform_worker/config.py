"""The worker's settings, read once from the environment at start-up.

Every name has the `WORKER_` prefix except the shared ones of DESIGN.md
(`REDIS_URL` and the `KAFKA_*` of common/kafka_connection.py).
"""
from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from common import defaults
from common.kafka_connection import KafkaConnection


class WorkerSettings(KafkaConnection):
    model_config = SettingsConfigDict(env_prefix="WORKER_")

    redis_url: str = Field(defaults.REDIS_URL, validation_alias="REDIS_URL")

    topic: str = "order.processed"
    dlq_topic: str = "order.processed.dlq"
    group_id: str = "external-platform-redis-group"
    replay_group_id: str = "external-platform-redis-group.dlq-replay"

    key_ttl_seconds: int = Field(3600, gt=0)
    redis_timeout_seconds: float = Field(2.0, gt=0)

    max_attempts: int = Field(5, ge=1)
    backoff_base_seconds: float = Field(0.2, gt=0)
    backoff_max_seconds: float = Field(5.0, gt=0)

    flood_guard_share: float = Field(0.5, gt=0, le=1)
    flood_guard_window_seconds: float = Field(60.0, gt=0)
    flood_guard_min_records: int = Field(20, ge=1)

    max_poll_records: int = Field(2000, ge=1)
    max_poll_interval_ms: int = Field(300_000, ge=1000)
    session_timeout_ms: int = Field(10_000, ge=1000)
    heartbeat_interval_ms: int = Field(3_000, ge=100)
    fetch_max_bytes: int = Field(52_428_800, ge=1024)
    max_partition_fetch_bytes: int = Field(4_194_304, ge=1024)

    dlq_timeout_seconds: float = Field(10.0, gt=0)

    metrics_host: str = "0.0.0.0"
    metrics_port: int = 9102
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _heartbeat_below_session(self) -> "WorkerSettings":
        if self.heartbeat_interval_ms * 3 > self.session_timeout_ms:
            raise ValueError("WORKER_HEARTBEAT_INTERVAL_MS must be at most a third of WORKER_SESSION_TIMEOUT_MS")
        return self

    @property
    def retry_budget_seconds(self) -> float:
        """Retries of one batch end well inside max_poll_interval_ms, so the group never evicts us."""
        return self.max_poll_interval_ms / 1000 / 3
