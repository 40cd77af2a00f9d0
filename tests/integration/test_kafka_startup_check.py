"""The start-up check against the stack's plaintext broker: an outage and a wrong protocol are told apart."""
import time

import pytest

from common.kafka_connection import KafkaConnection
from common.kafka_startup_check import KafkaMisconfigured, KafkaUnreachable, check
from harness.services import free_port


def test_a_reachable_broker_answers_with_its_cluster(test_env):
    cluster = check(KafkaConnection(kafka_brokers=test_env.kafka_brokers))

    assert cluster["brokers"]


def test_no_broker_listening_is_an_outage_reported_at_once():
    started = time.monotonic()

    with pytest.raises(KafkaUnreachable, match="accepts connections"):
        check(KafkaConnection(kafka_brokers=f"127.0.0.1:{free_port()}"))

    assert time.monotonic() - started < 3


def test_tls_against_a_plaintext_listener_is_a_setting_to_fix(test_env):
    connection = KafkaConnection(kafka_brokers=test_env.kafka_brokers, kafka_security_protocol="SSL")

    with pytest.raises(KafkaMisconfigured, match="KAFKA_SECURITY_PROTOCOL=SSL"):
        check(connection, timeout_s=5)
