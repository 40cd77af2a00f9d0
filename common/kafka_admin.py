"""Broker readiness and explicit topic creation, for the stack scripts and the tests.

Guarantees:
- `wait_until_ready` returns only once the broker has answered an admin request
  (DescribeCluster, with a live controller and an unfenced broker), not merely
  opened its port; it raises `BrokerNotReady` at the deadline.
- `ensure_topics` is idempotent: it creates what is missing, leaves existing topics
  as they are, and returns only once every named topic has a leader for each
  partition. Topics are never left to the broker's auto-create.
- `delete_topics` removes the topics whose names start with a prefix: the tests and the
  benchmarks name theirs per run and delete them at the end, so a broker used for months
  does not carry thousands of dead partitions (they cost the broker CPU and disk).

Every function takes the brokers as a `KafkaConnection` (common/kafka_connection.py) or as a list
of addresses, reached then with the environment's KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* and
KAFKA_SSL_CAFILE.

CLI: `python -m common.kafka_admin wait --timeout 90` (`--nodes 3`: the whole cluster formed,
common/kafka_cluster.py; `--node-id 2`: that node up) and
`python -m common.kafka_admin create-topics` (brokers and security from the KAFKA_* settings; topic names
from WORKER_TOPIC and WORKER_DLQ_TOPIC; partitions from KAFKA_TOPIC_PARTITIONS; with
`--nodes 3` it returns once they, and `__consumer_offsets` if it exists, are fully replicated);
`python -m common.kafka_admin delete-topics --prefix test-` (asks before deleting).
"""
from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

import click
from kafka import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError, for_code
from tenacity import RetryError, retry, retry_if_exception_type, stop_after_delay, wait_fixed

from common import defaults
from common.kafka_connection import KafkaConnection, connection_to
from common.kafka_startup_check import KafkaMisconfigured, KafkaUnreachable, check

Brokers = str | Sequence[str] | KafkaConnection
DEFAULT_TOPIC = "order.processed"
DEFAULT_DLQ_TOPIC = "order.processed.dlq"
DEFAULT_PARTITIONS = 6
ATTEMPT_TIMEOUT_MS = 5000
TOPICS_READY_TIMEOUT_MS = 30000


class BrokerNotReady(RuntimeError):
    """The broker did not answer an admin request before the deadline."""


def _admin(brokers: Brokers, timeout_ms: int = ATTEMPT_TIMEOUT_MS) -> KafkaAdminClient:
    connection = connection_to(brokers)
    return KafkaAdminClient(
        **connection.client_options(),
        client_id=connection.kafka_client_id + "-admin",
        request_timeout_ms=timeout_ms,
        bootstrap_timeout_ms=timeout_ms,
    )


def _describe_live_cluster(connection: KafkaConnection, timeout_ms: int) -> dict:
    cluster = check(connection, timeout_ms / 1000)
    if cluster.get("controller_id", -1) < 0:
        raise BrokerNotReady("no active controller yet")
    if not any(not b.get("is_fenced") for b in cluster.get("brokers", [])):
        raise BrokerNotReady("no unfenced broker yet")
    return cluster


def wait_until_ready(brokers: Brokers, timeout_s: float = 90.0) -> dict:
    """The broker's DescribeCluster answer, once it has one; `BrokerNotReady` after `timeout_s`."""
    connection = connection_to(brokers)
    attempt = retry(
        # a broker still starting may refuse credentials it has not loaded yet: the last reason is reported
        retry=retry_if_exception_type((KafkaError, OSError, BrokerNotReady, KafkaUnreachable, KafkaMisconfigured)),
        stop=stop_after_delay(timeout_s),
        wait=wait_fixed(0.5),
    )(_describe_live_cluster)
    try:
        return attempt(connection, int(min(ATTEMPT_TIMEOUT_MS, max(timeout_s, 0.5) * 1000)))
    except RetryError as error:
        last = error.last_attempt.exception()
        raise BrokerNotReady(f"Kafka at {connection.describe()} not ready within {timeout_s}s: {last}") from last


def ensure_topics(
    brokers: Brokers,
    topics: Iterable[tuple[str, int]],
    replication_factor: int = -1,
    configs: dict[str, str] | None = None,
) -> None:
    """Create each (name, partitions) that is missing; return once all have leaders.

    `replication_factor=-1` takes the broker's `default.replication.factor`; `configs` are topic
    configs of the topics created (e.g. `message.timestamp.type`), not applied to existing ones.
    """
    wanted = {name: partitions for name, partitions in topics}
    if not wanted:
        return
    admin = _admin(brokers)
    try:
        response = admin.create_topics(
            {
                name: {"num_partitions": partitions, "replication_factor": replication_factor, "configs": configs or {}}
                for name, partitions in wanted.items()
            },
            raise_errors=False,
        )
        for topic in response["topics"]:
            error = for_code(topic["error_code"])
            if topic["error_code"] and error is not TopicAlreadyExistsError:
                raise error(f"creating topic {topic['name']}: {topic.get('error_message')}")
        admin.wait_for_topics(list(wanted), timeout_ms=TOPICS_READY_TIMEOUT_MS)
    finally:
        admin.close()


def topics_with_prefix(brokers: Brokers, prefix: str) -> list[str]:
    admin = _admin(brokers)
    try:
        return _named(admin, prefix)
    finally:
        admin.close()


def delete_topics(brokers: Brokers, prefix: str) -> list[str]:
    """Delete every topic whose name starts with `prefix`; returns their names."""
    if not prefix:
        raise ValueError("a prefix is required: an empty one would name every topic")
    admin = _admin(brokers)
    try:
        names = _named(admin, prefix)
        if names:
            admin.delete_topics(names, timeout_ms=TOPICS_READY_TIMEOUT_MS)
        return names
    finally:
        admin.close()


def _named(admin: KafkaAdminClient, prefix: str) -> list[str]:
    return sorted(name for name in admin.list_topics() if name.startswith(prefix))


@click.group()
def cli() -> None:
    """Kafka administration for the stack: readiness and topics."""


def _connection(brokers: str) -> KafkaConnection:
    try:
        return KafkaConnection(kafka_brokers=brokers)
    except ValueError as error:  # pydantic's ValidationError: a bad KAFKA_* setting
        raise click.ClickException(str(error)) from None


@cli.command()
@click.option("--timeout", default=90.0, show_default=True, help="Seconds to wait.")
@click.option("--brokers", envvar="KAFKA_BROKERS", default=defaults.KAFKA_BROKERS, show_default=True)
@click.option("--nodes", default=1, show_default=True, help="Wait for this many unfenced brokers and quorum voters.")
@click.option("--node-id", type=int, default=None, help="Wait until this node is an unfenced broker.")
def wait(timeout: float, brokers: str, nodes: int, node_id: int | None) -> None:
    """Wait until the broker (or the cluster, or one node of it) answers an admin request."""
    from common.kafka_cluster import ClusterNotReady, wait_until_formed, wait_until_node_up

    brokers = _connection(brokers)
    try:
        if node_id is not None:
            cluster = wait_until_node_up(brokers, node_id, timeout)
        elif nodes > 1:
            cluster = wait_until_formed(brokers, nodes, timeout)
        else:
            cluster = wait_until_ready(brokers, timeout)
    except (BrokerNotReady, ClusterNotReady) as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    click.echo(f"Kafka ready at {brokers.describe()} (cluster {cluster.get('cluster_id')})")


@cli.command("create-topics")
@click.option("--brokers", envvar="KAFKA_BROKERS", default=defaults.KAFKA_BROKERS, show_default=True)
@click.option("--topic", envvar="WORKER_TOPIC", default=DEFAULT_TOPIC, show_default=True)
@click.option("--dlq-topic", envvar="WORKER_DLQ_TOPIC", default=DEFAULT_DLQ_TOPIC, show_default=True)
@click.option("--partitions", envvar="KAFKA_TOPIC_PARTITIONS", default=DEFAULT_PARTITIONS, show_default=True)
@click.option("--timeout", default=90.0, show_default=True, help="Seconds to wait for the broker first.")
@click.option("--nodes", default=1, show_default=True,
              help="Nodes of the cluster: with more than one, wait until the topics are fully replicated.")
def create_topics(brokers: str, topic: str, dlq_topic: str, partitions: int, timeout: float, nodes: int) -> None:
    """Create the order topic and its dead-letter topic if they are missing."""
    from common.kafka_cluster import ClusterNotReady, wait_until_replicated

    brokers = _connection(brokers)
    try:
        wait_until_ready(brokers, timeout)
        ensure_topics(brokers, [(topic, partitions), (dlq_topic, partitions)])
        if nodes > 1:
            internal = [name for name in ("__consumer_offsets",) if name in topics_with_prefix(brokers, name)]
            wait_until_replicated(brokers, [topic, dlq_topic, *internal], min(nodes, 3), timeout)
    except (BrokerNotReady, ClusterNotReady) as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    click.echo(f"topics ready: {topic}, {dlq_topic} ({partitions} partitions when created)")


@cli.command("delete-topics")
@click.option("--brokers", envvar="KAFKA_BROKERS", default=defaults.KAFKA_BROKERS, show_default=True)
@click.option("--prefix", required=True, help="Delete the topics whose names start with this, e.g. test- or bench-.")
@click.option("--yes", is_flag=True, help="Do not ask.")
def delete_topics_command(brokers: str, prefix: str, yes: bool) -> None:
    """Delete the topics left by test or benchmark runs that did not finish."""
    brokers = _connection(brokers)
    names = topics_with_prefix(brokers, prefix)
    if not names:
        click.echo(f"no topic starts with {prefix!r}")
        return
    if not yes:
        click.confirm(f"delete {len(names)} topics ({names[0]} ... {names[-1]})?", abort=True)
    click.echo(f"deleted {len(delete_topics(brokers, prefix))} topics starting with {prefix!r}")


if __name__ == "__main__":
    cli()
