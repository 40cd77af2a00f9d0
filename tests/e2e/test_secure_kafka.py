"""Managed-cluster settings against a real broker that only speaks SASL_SSL (SCRAM-SHA-512, a CA
made here, ACLs enforced): a payment travels through relay and worker as two users holding only the
ACLs the README lists, and a wrong password or an unknown CA stops each service at start-up within
seconds with a message naming the cause, while payments keep succeeding."""
import os
import subprocess
import time

import pytest
import trustme
from kafka import KafkaConsumer
from kafka.admin import ACL, ACLOperation, ACLPermissionType, KafkaAdminClient, ResourcePattern, ResourceType

from common.kafka_admin import ensure_topics
from common.kafka_connection import KafkaConnection
from harness.database import scalar
from harness.services import BIN, ServiceProcess, free_port
from harness.shop import Shop
from tests.e2e.test_payment_reaches_redis import stored_message
from tests.support.secure_kafka import ADMIN, SecureBroker

USERS = {"relay": "relay-secret", "worker": "worker-secret"}
START_UP_BUDGET_S = 30  # a refused service must be gone well before this


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory, service_env):
    broker = SecureBroker(tmp_path_factory.mktemp("sasl-ssl-broker"), USERS).start()
    try:
        admin = KafkaConnection(**broker.connection_env(ADMIN[0]))
        ensure_topics(admin, [(service_env["WORKER_TOPIC"], 3), (service_env["WORKER_DLQ_TOPIC"], 3)])
        grant_readme_acls(admin, service_env)
        yield broker
    finally:
        broker.stop()


def grant_readme_acls(admin: KafkaConnection, env: dict[str, str]) -> None:
    """The ACL table of the README ("A managed Kafka cluster"), nothing more; the user `worker` also runs
    `replay-dlq`, so it holds the rows of both."""
    topic, dlq = env["WORKER_TOPIC"], env["WORKER_DLQ_TOPIC"]
    group = env["WORKER_GROUP_ID"]
    grants = [
        ("relay", ResourceType.TOPIC, topic, [ACLOperation.WRITE, ACLOperation.DESCRIBE]),
        ("worker", ResourceType.TOPIC, topic, [ACLOperation.READ, ACLOperation.DESCRIBE, ACLOperation.WRITE]),
        ("worker", ResourceType.GROUP, group, [ACLOperation.READ]),
        ("worker", ResourceType.TOPIC, dlq, [ACLOperation.READ, ACLOperation.WRITE, ACLOperation.DESCRIBE]),
        ("worker", ResourceType.GROUP, replay_group(env), [ACLOperation.READ]),
    ]
    acls = [
        ACL(f"User:{user}", "*", operation, ACLPermissionType.ALLOW, ResourcePattern(kind, name))
        for user, kind, name, operations in grants for operation in operations
    ]
    client = KafkaAdminClient(**admin.client_options(), client_id="test-acls")
    try:
        result = client.create_acls(acls)
        assert not result["failed"], result["failed"]
    finally:
        client.close()


@pytest.fixture(scope="module")
def api(service_env):
    port = free_port()
    service = ServiceProcess("order-api", {**service_env, "API_PORT": str(port)}, f"http://127.0.0.1:{port}/readyz").start()
    yield Shop(f"http://127.0.0.1:{port}", service_env["ADMIN_TOKEN"])
    service.stop()


def pay_one(shop: Shop) -> int:
    user_id = shop.user_with_balance(10_000)
    option_id = shop.product(price=4_000, stock=1)["options"][0]["productOptionId"]
    order = shop.post("/api/orders", {"userId": user_id, "items": [{"productOptionId": option_id, "quantity": 1}]}, 201)
    shop.post(f"/api/orders/{order['orderId']}/payment", {"userId": user_id}, 200)
    return order["orderId"]


def test_a_payment_reaches_redis_through_relay_and_worker_over_sasl_ssl(secure_broker, service_env, api, redis_client):
    relay_port, worker_port = free_port(), free_port()
    relay = ServiceProcess("outbox-relay", {**service_env, **secure_broker.connection_env("relay"),
                                            "RELAY_METRICS_PORT": str(relay_port)}, f"http://127.0.0.1:{relay_port}/metrics")
    worker = ServiceProcess("platform-worker", {**service_env, **secure_broker.connection_env("worker"),
                                                "WORKER_METRICS_PORT": str(worker_port)}, f"http://127.0.0.1:{worker_port}/metrics")
    started = []
    try:
        started.append(relay.start())
        started.append(worker.start())

        order_id = pay_one(api)
        message = stored_message(redis_client, order_id)
        replay_env = {**child_env(service_env), **secure_broker.connection_env("worker"),
                      "WORKER_REPLAY_GROUP_ID": replay_group(service_env)}
        replay = subprocess.run([str(BIN / "platform-worker"), "replay-dlq"], env=replay_env,
                                capture_output=True, text=True, timeout=60)
    finally:
        for service in reversed(started):
            service.stop()

    assert message["orderId"] == order_id
    assert replay.returncode == 0, replay.stderr
    assert "replayed 0 record(s)" in replay.stdout


def test_the_broker_enforces_the_acls_so_the_flow_needed_no_more_than_granted(secure_broker, service_env):
    visible = topics_visible_to(KafkaConnection(**secure_broker.connection_env("relay")))

    assert service_env["WORKER_TOPIC"] in visible
    assert service_env["WORKER_DLQ_TOPIC"] not in visible  # the relay holds no ACL on the dead-letter topic


def topics_visible_to(connection: KafkaConnection) -> set[str]:
    consumer = KafkaConsumer(**connection.client_options(), group_id=None)
    try:
        return consumer.topics()
    finally:
        consumer.close()


@pytest.mark.parametrize("mistake, override, cause", [
    ("wrong password", lambda tmp: {"KAFKA_SASL_PASSWORD": "not-the-password"}, "KAFKA_SASL_PASSWORD"),
    ("unknown CA", lambda tmp: {"KAFKA_SSL_CAFILE": another_ca(tmp)}, "is not trusted by KAFKA_SSL_CAFILE"),
])
def test_a_refused_setting_stops_relay_and_worker_at_start_up_while_payments_succeed(
    secure_broker, service_env, api, engine, tmp_path, mistake, override, cause
):
    bad = {**secure_broker.connection_env("worker"), **override(tmp_path)}
    started_at = time.monotonic()
    processes = {
        name: subprocess.Popen([str(BIN / name)], env={**child_env(service_env), **bad, **ports},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        for name, ports in (("outbox-relay", {"RELAY_METRICS_PORT": str(free_port())}),
                            ("platform-worker", {"WORKER_METRICS_PORT": str(free_port())}))
    }
    order_id = pay_one(api)  # the API does not need Kafka
    outcomes = {}
    for name, process in processes.items():
        try:
            output, _ = process.communicate(timeout=START_UP_BUDGET_S)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            pytest.fail(f"{name} still running {START_UP_BUDGET_S}s after start with a {mistake}: {output[-2000:]}")
        outcomes[name] = (process.returncode, time.monotonic() - started_at, output)

    assert scalar(engine, "SELECT count(*) FROM outbox WHERE aggregateid = :id", id=str(order_id)) == 1  # paid, event kept
    for name, (code, seconds, output) in outcomes.items():
        assert code == 2, f"{name} exited {code}: {output[-2000:]}"
        assert cause in output, f"{name} did not name the cause ({cause!r}): {output[-2000:]}"
        assert seconds < 20, f"{name} took {seconds:.1f}s to give up"


def another_ca(tmp_path) -> str:
    path = tmp_path / "another-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def child_env(service_env: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **service_env}


def replay_group(service_env: dict[str, str]) -> str:
    return f"{service_env['WORKER_GROUP_ID']}.dlq-replay"
