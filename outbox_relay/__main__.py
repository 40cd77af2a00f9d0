"""`outbox-relay`: without a sub-command runs the relay until SIGTERM/SIGINT; `status` reports the backlog."""
import logging
import os
import sys

import click
import structlog

from common import tracing
from common.kafka_startup_check import KafkaMisconfigured, KafkaUnreachable, check as check_kafka
from common.log import configure_logging
from outbox_relay import interpreter, metrics, status as backlog_status
from outbox_relay.bootstrap import build_relay
from outbox_relay.config import Settings
from outbox_relay.database import build_engine
from outbox_relay.stop import Stop, install_signal_handlers


def run_relay(settings: Settings) -> None:
    configure_logging("outbox-relay", level=settings.log_level)
    structlog.contextvars.bind_contextvars(pid=os.getpid())
    logging.getLogger("kafka").setLevel(settings.kafka_log_level)
    tracing.configure_tracing("outbox-relay")
    check_kafka_at_start_up(settings)
    stop = Stop(settings.shutdown_grace_seconds)
    signal_socket, _signal_writer = install_signal_handlers(stop)
    relay = build_relay(settings, stop, signal_socket)
    metrics.serve(settings.metrics_host, settings.metrics_port)
    interpreter.tune()  # after the imports and set-up: their objects are frozen out of the GC
    try:
        relay.run()
    finally:
        tracing.shutdown()


def check_kafka_at_start_up(settings: Settings) -> None:
    """Stop at once on settings the brokers refuse; a broker that is away is an outage the relay rides out."""
    log = structlog.get_logger("outbox_relay")
    try:
        check_kafka(settings)
    except KafkaMisconfigured as error:
        log.error("kafka refuses the relay's connection settings; stopping", error=str(error))
        print(f"outbox-relay: {error}", file=sys.stderr)
        sys.exit(2)
    except KafkaUnreachable as error:
        log.warning("kafka unreachable at start-up; rows stay pending until it answers", error=str(error))


@click.group(invoke_without_command=True)
@click.pass_context
def main(ctx: click.Context) -> None:
    """The outbox relay: publishes committed outbox rows to Kafka, in order per key."""
    if ctx.invoked_subcommand is None:
        run_relay(Settings())
        sys.exit(0)


@main.command()
def status() -> None:
    """Pending count, oldest pending age and last error per topic."""
    engine = build_engine(Settings())
    try:
        with engine.connect() as conn:
            click.echo(backlog_status.render(backlog_status.topic_statuses(conn)))
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
