import pytest
from pydantic import ValidationError

from outbox_relay.config import Settings


def test_defaults_match_the_contract_and_the_issue(monkeypatch):
    for name in ("DATABASE_URL", "KAFKA_BROKERS", "KAFKA_CLIENT_ID", "RELAY_METRICS_PORT", "RELAY_METRICS_HOST"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.poll_interval_seconds == 1.0
    assert settings.retention_hours == 168
    assert settings.metrics_port == 9101
    assert settings.kafka_brokers == "127.0.0.1:9092"
    assert settings.kafka_client_id == "ecommerce-app"
    assert settings.database_url == "postgresql+psycopg2://outbox:outbox@127.0.0.1:5432/outbox"


def test_shared_names_are_read_without_prefix_and_the_rest_with_relay_prefix(monkeypatch):
    monkeypatch.setenv("KAFKA_BROKERS", "127.0.0.1:1, 127.0.0.1:2")
    monkeypatch.setenv("RELAY_BATCH_SIZE", "77")
    monkeypatch.setenv("BATCH_SIZE", "5")
    settings = Settings()
    assert settings.brokers == ["127.0.0.1:1", "127.0.0.1:2"]
    assert settings.batch_size == 77


def test_a_delivery_timeout_shorter_than_one_request_is_refused_at_start_up(monkeypatch):
    monkeypatch.setenv("RELAY_DELIVERY_TIMEOUT_MS", "1000")
    monkeypatch.setenv("RELAY_REQUEST_TIMEOUT_MS", "5000")
    with pytest.raises(ValidationError):
        Settings()



@pytest.mark.parametrize(
    "environment, outage_backoff, row_retry",
    [
        (
            {"RELAY_OUTAGE_BACKOFF_INITIAL_SECONDS": "0.1", "RELAY_OUTAGE_BACKOFF_MAX_SECONDS": "3",
             "RELAY_ROW_RETRY_INITIAL_SECONDS": "2", "RELAY_ROW_RETRY_MAX_SECONDS": "60"},
            (0.1, 3), (2, 60),
        ),
        (
            {"RELAY_BACKOFF_INITIAL_SECONDS": "0.3", "RELAY_BACKOFF_MAX_SECONDS": "7", "RELAY_ROW_RETRY_MAX_SECONDS": "60"},
            (0.3, 7), (0.3, 60),
        ),
    ],
    ids=["each-its-own", "old-names-set-both-new-names-win"],
)
def test_the_outage_backoff_and_the_row_retry_schedule_have_settings_of_their_own(
    monkeypatch, environment, outage_backoff, row_retry
):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert (settings.outage_backoff_initial_seconds, settings.outage_backoff_max_seconds) == outage_backoff
    assert (settings.row_retry_initial_seconds, settings.row_retry_max_seconds) == row_retry


def test_the_wakeup_is_notify_by_default_poll_on_request_and_nothing_else(monkeypatch):
    assert Settings().wakeup == "notify"
    monkeypatch.setenv("RELAY_WAKEUP", "poll")
    assert Settings().wakeup == "poll"
    monkeypatch.setenv("RELAY_WAKEUP", "sometimes")
    with pytest.raises(ValidationError):
        Settings()
