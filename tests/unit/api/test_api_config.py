"""Settings: ADMIN_TOKEN is required outside dev; defaults as documented."""
import pydantic
import pytest

from order_api.config import Settings


def test_admin_token_is_required_outside_dev(monkeypatch):
    monkeypatch.delenv("ADMIN_TOKEN", raising=False)
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(pydantic.ValidationError):
        Settings()


def test_dev_gets_the_dev_admin_token(monkeypatch):
    monkeypatch.delenv("ADMIN_TOKEN", raising=False)
    monkeypatch.setenv("ENVIRONMENT", "dev")
    assert Settings().admin_token == "dev-admin-token"


def test_defaults_are_the_documented_ones(monkeypatch):
    for name in ("API_PORT", "API_ORDER_PROCESSED_TOPIC", "API_ORDER_TTL_SECONDS", "API_IDEMPOTENCY_TTL_HOURS", "API_MAX_BODY_BYTES"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(ADMIN_TOKEN="x")
    assert (settings.port, settings.order_processed_topic, settings.order_ttl_seconds) == (8000, "order.processed", 600)
    assert (settings.idempotency_ttl_hours, settings.max_body_bytes) == (24, 65536)


def test_settings_come_from_prefixed_environment_variables(monkeypatch):
    monkeypatch.setenv("API_PORT", "8123")
    monkeypatch.setenv("API_WORKERS", "7")
    monkeypatch.setenv("API_ORDER_TTL_SECONDS", "30")
    settings = Settings(ADMIN_TOKEN="x")
    assert (settings.port, settings.workers, settings.order_ttl_seconds) == (8123, 7, 30)
