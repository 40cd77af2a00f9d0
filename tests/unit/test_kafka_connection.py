"""The shared KAFKA_* settings: what each protocol passes to kafka-python, and the combinations refused at start-up."""
import pytest
import trustme
from pydantic import ValidationError

from common.kafka_connection import KafkaConnection, parse_brokers
from outbox_relay.config import Settings as RelaySettings
from platform_worker.config import WorkerSettings

NAMES = ("KAFKA_BROKERS", "KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME",
         "KAFKA_SASL_PASSWORD", "KAFKA_SSL_CAFILE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def ca_file(tmp_path):
    path = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def test_plaintext_by_default_passes_only_the_brokers():
    assert KafkaConnection().client_options() == {"bootstrap_servers": ["127.0.0.1:9092"], "security_protocol": "PLAINTEXT"}


def test_sasl_ssl_passes_mechanism_credentials_and_ca(monkeypatch, ca_file):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "sasl_ssl")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "relay")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    monkeypatch.setenv("KAFKA_SSL_CAFILE", ca_file)

    options = KafkaConnection().client_options()

    assert options == {
        "bootstrap_servers": ["127.0.0.1:9092"], "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "relay", "sasl_plain_password": "s3cret", "ssl_check_hostname": True, "ssl_cafile": ca_file,
    }


def test_every_service_reads_the_same_settings(monkeypatch, ca_file):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("KAFKA_SSL_CAFILE", ca_file)

    assert RelaySettings().client_options() == WorkerSettings().client_options() == KafkaConnection().client_options()


@pytest.mark.parametrize("environment, named", [
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "KAFKA_SASL_USERNAME"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "u"}, "KAFKA_SASL_PASSWORD"),
    ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "GSSAPI", "KAFKA_SASL_USERNAME": "u",
      "KAFKA_SASL_PASSWORD": "p"}, "KAFKA_SASL_MECHANISM"),
    ({"KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p"}, "does not use SASL"),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"}, "no such file"),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": __file__}, "not a PEM certificate bundle"),
    ({"KAFKA_SSL_CAFILE": __file__}, "does not use TLS"),
    ({"KAFKA_BROKERS": " , "}, "names no broker"),
])
def test_a_bad_combination_is_refused_naming_the_setting(monkeypatch, environment, named):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError) as refused:
        RelaySettings()

    assert named in str(refused.value)


def test_the_password_never_appears_in_a_refusal_or_a_repr(monkeypatch):
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "u")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "hunter2-secret")

    with pytest.raises(ValidationError) as refused:
        WorkerSettings()
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")

    assert "hunter2" not in str(refused.value)
    assert "hunter2" not in repr(KafkaConnection()) + KafkaConnection().describe()


def test_broker_lists_are_split_on_commas_and_trimmed():
    assert parse_brokers(" a:1, b:2 ,,") == ["a:1", "b:2"]
    assert parse_brokers(["a:1"]) == ["a:1"]
