"""`order-api`: serve the API with gunicorn on 127.0.0.1:API_PORT; `order-api expire-orders`: sweep once.

Serving: gunicorn's master forks API_WORKERS gthread workers (API_THREADS threads each); each worker
builds its own app (no preload, so no database connection crosses a fork) and starts an expiry
sweeper thread; the sweepers coordinate through a PostgreSQL advisory lock (see sweeper.py), so
one sweep runs at a time. Metrics use prometheus_client's multiprocess mode in a temporary
PROMETHEUS_MULTIPROC_DIR created here and removed on exit.
"""
import os
import shutil
import tempfile

import click
import structlog
from gunicorn.app.base import BaseApplication

from order_api.config import Settings, get_settings
from order_api.entrypoints import gunicorn_errors


class GunicornServer(BaseApplication):
    def __init__(self, settings: Settings):
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for name, value in gunicorn_options(self.settings).items():
            self.cfg.set(name, value)

    def load(self):
        from order_api.entrypoints.app import create_app

        return create_app(self.settings)


def gunicorn_options(settings: Settings) -> dict:
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": "gthread",
        "threads": settings.threads,
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "backlog": 2048,
        "accesslog": None,
        "logconfig_dict": json_logging(),
        "post_worker_init": start_sweeper,
        "worker_exit": stop_worker,
        "child_exit": mark_worker_dead,
        "on_exit": remove_metrics_dir,
    }


def json_logging() -> dict:
    """gunicorn's own log lines (boot, worker exits) as JSON, like the app's structlog lines."""
    formatter = {
        "()": structlog.stdlib.ProcessorFormatter,
        "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta, structlog.processors.JSONRenderer()],
        "foreign_pre_chain": [
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
    }
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    logger = {"handlers": ["json"], "level": "INFO", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": formatter},
        "handlers": {"json": handler},
        "root": {"level": "INFO", "handlers": ["json"]},
        "loggers": {"gunicorn.error": logger, "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False}},
    }


def start_sweeper(worker) -> None:
    from order_api.entrypoints.context import EXTENSION
    from order_api.entrypoints.sweeper import ExpirySweeper

    resources = worker.wsgi.extensions[EXTENSION]
    if resources.settings.sweeper_enabled:
        worker.expiry_sweeper = ExpirySweeper(resources.sessions, resources.settings)
        worker.expiry_sweeper.start()


def stop_worker(_server, worker) -> None:
    """A gunicorn worker ends: its sweeper stops and its buffered spans are exported."""
    from common import tracing

    sweeper = getattr(worker, "expiry_sweeper", None)
    if sweeper is not None:
        sweeper.stop()
    tracing.shutdown()


def mark_worker_dead(_server, worker) -> None:
    from prometheus_client import multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


def remove_metrics_dir(_server) -> None:
    owned = os.environ.get("ORDER_API_OWNED_METRICS_DIR")
    if owned:
        shutil.rmtree(owned, ignore_errors=True)


def prepare_metrics_dir() -> None:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        path = tempfile.mkdtemp(prefix="order-api-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
        os.environ["ORDER_API_OWNED_METRICS_DIR"] = path


@click.group(invoke_without_command=True)
@click.pass_context
def main(context: click.Context) -> None:
    """Serve the order API (default), or run a maintenance command."""
    if context.invoked_subcommand is None:
        settings = get_settings()
        prepare_metrics_dir()
        gunicorn_errors.install()
        GunicornServer(settings).run()


@main.command("expire-orders")
def expire_orders() -> None:
    """Expire every due order now and release its reservation, then exit."""
    from common.log import configure_logging
    from order_api.adapters.database import engine_for, session_factory
    from order_api.entrypoints.sweeper import sweep_once

    settings = get_settings()
    configure_logging("order-api", level=settings.log_level)
    engine = engine_for(settings)
    click.echo(f"expired {sweep_once(session_factory(engine), settings)} orders")
    engine.dispose()
