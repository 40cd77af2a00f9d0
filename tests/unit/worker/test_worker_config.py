import pytest
from pydantic import ValidationError

from platform_worker.config import WorkerSettings


def test_defaults_follow_the_design_contract(monkeypatch):
    for name in ("KAFKA_BROKERS", "REDIS_URL", "KAFKA_CLIENT_ID", "WORKER_TOPIC", "WORKER_DLQ_TOPIC", "WORKER_GROUP_ID", "WORKER_METRICS_PORT", "WORKER_METRICS_HOST"):
        monkeypatch.delenv(name, raising=False)
    settings = WorkerSettings()
    assert settings.topic == "order.processed"
    assert settings.dlq_topic == "order.processed.dlq"
    assert settings.group_id == "external-platform-redis-group"
    assert settings.max_attempts == 5
    assert settings.metrics_port == 9102
    assert settings.key_ttl_seconds == 3600
    assert settings.brokers == ["127.0.0.1:9092"]


def test_shared_names_have_no_prefix_and_the_rest_have_worker(monkeypatch):
    monkeypatch.setenv("KAFKA_BROKERS", "a:1, b:2")
    monkeypatch.setenv("WORKER_MAX_ATTEMPTS", "7")
    settings = WorkerSettings()
    assert settings.brokers == ["a:1", "b:2"]
    assert settings.max_attempts == 7


def test_a_heartbeat_too_slow_for_the_session_is_refused(monkeypatch):
    monkeypatch.setenv("WORKER_HEARTBEAT_INTERVAL_MS", "5000")
    monkeypatch.setenv("WORKER_SESSION_TIMEOUT_MS", "10000")
    with pytest.raises(ValidationError):
        WorkerSettings()
