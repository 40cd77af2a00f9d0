"""The start-up check every Kafka-using process runs before it builds its clients.

kafka-python retries a refused TLS handshake or a failed SASL authentication like any lost
connection, until its own timeout, and then reports only "Unable to bootstrap". So this check
classifies the failure itself, once, by what it means for the next step:

- `KafkaUnreachable`: no broker accepted a TCP connection (an outage; the services wait for it).
- `KafkaMisconfigured`: a broker accepted the connection but refused our TLS or credentials, or
  never answered the Kafka handshake; waiting cannot help, so the process stops with this message,
  which names the setting to look at.

Guarantee: `check` returns (the DescribeCluster answer) or raises one of the two within about
`timeout_s`.
"""
import logging
import re
import socket
import ssl
import time
from contextlib import contextmanager

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from common.kafka_connection import KafkaConnection


class KafkaUnreachable(RuntimeError):
    """No broker accepted a connection: an outage, not a setting."""


class KafkaMisconfigured(RuntimeError):
    """The brokers are there but refuse how we connect; waiting will not help."""


def check(connection: KafkaConnection, timeout_s: float = 8.0) -> dict:
    deadline = time.monotonic() + timeout_s
    host, port = _first_accepting(connection, deadline)
    if connection.uses_ssl:
        _check_tls(connection, host, port, deadline)
    return _describe_cluster(connection, deadline)


def _first_accepting(connection: KafkaConnection, deadline: float) -> tuple[str, int]:
    last: OSError | None = None
    for broker in connection.brokers:
        host, _, port = broker.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=max(0.1, min(2.0, deadline - time.monotonic()))):
                return host, int(port)
        except OSError as error:
            last = error
    raise KafkaUnreachable(f"no broker of {connection.kafka_brokers} accepts connections: {last}")


def _check_tls(connection: KafkaConnection, host: str, port: int, deadline: float) -> None:
    """The handshake kafka-python will make (same CA file, host name checked), done once with its reason kept."""
    context = ssl.create_default_context(cafile=connection.kafka_ssl_cafile)
    trusted = f"KAFKA_SSL_CAFILE={connection.kafka_ssl_cafile}" if connection.kafka_ssl_cafile else "the system's CAs (KAFKA_SSL_CAFILE unset)"
    try:
        with socket.create_connection((host, port), timeout=max(0.5, deadline - time.monotonic())) as sock:
            with context.wrap_socket(sock, server_hostname=host):
                return
    except ssl.SSLCertVerificationError as error:
        raise KafkaMisconfigured(
            f"TLS: the certificate of {host}:{port} is not trusted by {trusted}: {error.verify_message}"
        ) from error
    except (ssl.SSLError, ConnectionResetError) as error:
        raise KafkaMisconfigured(
            f"TLS handshake with {host}:{port} failed ({error}); does this listener speak TLS? "
            f"KAFKA_SECURITY_PROTOCOL={connection.kafka_security_protocol}"
        ) from error
    except OSError as error:
        raise KafkaUnreachable(f"{host}:{port} went away during the TLS handshake: {error}") from error


def _describe_cluster(connection: KafkaConnection, deadline: float) -> dict:
    timeout_ms = max(500, int((deadline - time.monotonic()) * 1000))
    with _kafka_errors() as seen:
        try:
            admin = KafkaAdminClient(
                **connection.client_options(), client_id=f"{connection.kafka_client_id}-check",
                bootstrap_timeout_ms=timeout_ms, request_timeout_ms=timeout_ms,
            )
            try:
                return admin.describe_cluster()
            finally:
                admin.close()
        except KafkaError as error:
            raise KafkaMisconfigured(_explain(connection, error, seen)) from error


def _explain(connection: KafkaConnection, error: KafkaError, seen: list[str]) -> str:
    where = f"Kafka at {connection.describe()}"
    refusal = next((found[-1] for found in (_REFUSAL.findall(message) for message in seen) if found), None)
    if refusal:
        return f"{where} refused us: {refusal}; check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM"
    if connection.uses_sasl:
        return (
            f"{where} closed every connection during SASL authentication as {connection.kafka_sasl_username!r} "
            f"with {connection.kafka_sasl_mechanism}: the user name, password or mechanism is wrong "
            f"(KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_SASL_MECHANISM), or the listener expects another "
            f"protocol than KAFKA_SECURITY_PROTOCOL={connection.kafka_security_protocol}"
        )
    return (
        f"{where} accepted connections but never answered the Kafka handshake ({error}): does the listener "
        f"require TLS or SASL? KAFKA_SECURITY_PROTOCOL={connection.kafka_security_protocol}"
    )


# kafka-python's words when it did read the broker's answer (it often loses it to the disconnect that follows)
_REFUSAL = re.compile(r"(?:SaslAuthenticationFailedError: |\w*AuthorizationFailedError: )+([^()]+)")


class _Collect(logging.Handler):
    def __init__(self, into: list[str]):
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


@contextmanager
def _kafka_errors():
    """kafka-python's own error log lines while the block runs: the only place it names an auth failure."""
    seen: list[str] = []
    logger, handler = logging.getLogger("kafka"), _Collect(seen)
    logger.addHandler(handler)
    level = logger.level
    if logger.getEffectiveLevel() > logging.ERROR:
        logger.setLevel(logging.ERROR)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
