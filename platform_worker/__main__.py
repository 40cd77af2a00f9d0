"""`platform-worker`: without a sub-command it runs the worker; `replay-dlq` replays dead letters."""
import sys

import click

from common.log import configure_logging
from platform_worker.config import WorkerSettings


@click.group(invoke_without_command=True)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Consume order.processed into Redis, with retries and a dead-letter topic."""
    if ctx.invoked_subcommand is None:
        from platform_worker.bootstrap import run_worker

        sys.exit(run_worker(WorkerSettings()))


@main.command("replay-dlq")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Replay at most N records.")
@click.option("--order-id", default=None, help="Replay only this order's records; others stay for a later run.")
def replay_dlq_command(limit: int | None, order_id: str | None) -> None:
    """Re-publish dead-lettered records onto WORKER_TOPIC, each once."""
    from platform_worker.replay import replay_dlq

    from common.kafka_startup_check import KafkaMisconfigured, KafkaUnreachable, check as check_kafka

    settings = WorkerSettings()
    configure_logging("platform-worker-replay", level=settings.log_level)
    try:
        check_kafka(settings)
    except (KafkaMisconfigured, KafkaUnreachable) as error:
        raise click.ClickException(f"nothing replayed: {error}") from error
    report = replay_dlq(settings, limit=limit, order_id=order_id)
    click.echo(
        f"replayed {report.replayed} record(s) from {settings.dlq_topic} to {settings.topic}; "
        f"skipped {report.skipped} (left for a later run); {report.already_replayed} replayed before"
    )


if __name__ == "__main__":
    main()
