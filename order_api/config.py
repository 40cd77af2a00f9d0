"""Settings of the order API, read once from the environment at start-up.

A missing ADMIN_TOKEN fails fast unless ENVIRONMENT=dev, where it defaults to `dev-admin-token`.
"""
from functools import lru_cache

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common import defaults
DEV_ADMIN_TOKEN = "dev-admin-token"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="API_", extra="ignore", populate_by_name=True)

    environment: str = Field("production", validation_alias="ENVIRONMENT")
    database_url: str = Field(defaults.DATABASE_URL, validation_alias="DATABASE_URL")
    admin_token: str | None = Field(None, validation_alias="ADMIN_TOKEN")
    port: int = Field(8000, validation_alias="API_PORT")
    host: str = "127.0.0.1"
    workers: int = 2
    threads: int = 4
    order_processed_topic: str = "order.processed"
    order_ttl_seconds: int = Field(600, gt=0)
    expiry_sweep_interval_seconds: float = Field(5.0, gt=0)
    expiry_sweep_batch_size: int = Field(100, gt=0)
    idempotency_ttl_hours: int = Field(24, gt=0)
    max_body_bytes: int = 65536
    db_pool_size: int = 5
    db_max_overflow: int = 5
    db_pool_timeout_seconds: float = 10.0
    db_statement_timeout_ms: int = 10000
    db_connect_timeout_seconds: int = 5
    transaction_retries: int = 5
    log_level: str = "INFO"
    sweeper_enabled: bool = True

    @model_validator(mode="after")
    def _admin_token_required_outside_dev(self) -> "Settings":
        if not self.admin_token:
            if self.environment != "dev":
                raise ValueError("ADMIN_TOKEN is required unless ENVIRONMENT=dev")
            self.admin_token = DEV_ADMIN_TOKEN
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
