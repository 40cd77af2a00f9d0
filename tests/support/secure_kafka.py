"""A real Apache Kafka broker (the stack's jars) with a SASL_SSL listener only, for the tests of
managed-cluster settings: SCRAM-SHA-512 users created when its storage is formatted, a certificate
for 127.0.0.1 signed by a CA made here (trustme), ACLs enforced by KRaft's StandardAuthorizer.

The broker runs as one JVM with a small heap on free ports; `stop` ends only that process.
"""
import base64
import os
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import trustme
from cryptography.hazmat.primitives import serialization

from harness.services import free_port
from harness.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
STACK_DIR = Path(os.environ.get("STACK_DIR", ROOT / ".stack"))
KAFKA_LIBS = STACK_DIR / "kafka" / "libs"
ADMIN = ("admin", "admin-secret")
MECHANISM = "SCRAM-SHA-512"

_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}
listeners=SASL_SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=SASL_SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
inter.broker.listener.name=SASL_SSL
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms={mechanism}
sasl.mechanism.inter.broker.protocol={mechanism}
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="{admin}" password="{admin_password}";
ssl.keystore.type=PEM
ssl.keystore.location={keystore}
ssl.truststore.type=PEM
ssl.truststore.location={truststore}
ssl.client.auth=none
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
# the controller listener (127.0.0.1, plaintext) is the broker talking to itself
super.users=User:{admin};User:ANONYMOUS
allow.everyone.if.no.acl.found=false
log.dirs={data}
auto.create.topics.enable=false
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
"""


@dataclass
class SecureBroker:
    """`users` maps user name to password; each becomes a SCRAM-SHA-512 credential at format time."""

    directory: Path
    users: dict[str, str]
    port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def brokers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def log_file(self) -> Path:
        return self.directory / "kafka.log"

    def connection_env(self, user: str) -> dict[str, str]:
        """The environment a service needs to reach this broker as `user`."""
        return {
            "KAFKA_BROKERS": self.brokers,
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": MECHANISM,
            "KAFKA_SASL_USERNAME": user,
            "KAFKA_SASL_PASSWORD": ADMIN[1] if user == ADMIN[0] else self.users[user],
            "KAFKA_SSL_CAFILE": str(self.ca_file),
        }

    def start(self, timeout: float = 90.0) -> "SecureBroker":
        if not KAFKA_LIBS.is_dir():
            raise RuntimeError(f"Kafka's jars are not in {KAFKA_LIBS}; run stack/native.sh install")
        self.directory.mkdir(parents=True, exist_ok=True)
        self._make_certificates()
        properties = self._write_properties()
        self._format(properties)
        log = open(self.log_file, "ab")
        self.process = subprocess.Popen(
            ["java", "-Xms128m", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
             "-Djava.awt.headless=true", *self._java_classpath(), "kafka.Kafka", str(properties)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(self._ready, timeout=timeout, interval=0.5, what=f"SASL_SSL broker on {self.brokers}")
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the SASL_SSL broker exited with {self.process.returncode}; see {self.log_file}")
        from common.kafka_admin import wait_until_ready
        from common.kafka_connection import KafkaConnection

        wait_until_ready(KafkaConnection(**self.connection_env(ADMIN[0])), timeout_s=2)
        return True

    def _java_classpath(self) -> list[str]:
        return ["-cp", f"{KAFKA_LIBS}/*", f"-Dlog4j2.configurationFile={ROOT / 'stack' / 'kafka' / 'log4j2.yaml'}"]

    def _make_certificates(self) -> None:
        ca = trustme.CA()
        certificate = ca.issue_cert("127.0.0.1", "localhost")
        ca.cert_pem.write_to_path(str(self.ca_file))
        key = serialization.load_pem_private_key(certificate.private_key_pem.bytes(), password=None)
        pkcs8 = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        chain = b"".join(blob.bytes() for blob in certificate.cert_chain_pems)
        (self.directory / "server.pem").write_bytes(pkcs8 + chain)

    def _write_properties(self) -> Path:
        path = self.directory / "server.properties"
        path.write_text(_PROPERTIES.format(
            port=self.port, controller_port=self.controller_port, mechanism=MECHANISM,
            admin=ADMIN[0], admin_password=ADMIN[1], keystore=self.directory / "server.pem",
            truststore=self.ca_file, data=self.directory / "data",
        ))
        return path

    def _format(self, properties: Path) -> None:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        scram = [
            argument
            for name, password in {ADMIN[0]: ADMIN[1], **self.users}.items()
            for argument in ("--add-scram", f"{MECHANISM}=[name={name},password={password}]")
        ]
        subprocess.run(
            ["java", "-Xmx256m", "-XX:TieredStopAtLevel=1", *self._java_classpath(), "kafka.tools.StorageTool",
             "format", "--standalone", "-t", cluster_id, "-c", str(properties), *scram],
            check=True, stdout=open(self.log_file, "ab"), stderr=subprocess.STDOUT, timeout=120,
        )
