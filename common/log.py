"""structlog set-up shared by the three services: JSON lines in production, console in dev."""
import logging
import os
import sys

import structlog

from common.tracing import span_ids


def configure_logging(service: str, json: bool | None = None, level: str = "INFO") -> None:
    if json is None:
        json = os.environ.get("ENVIRONMENT", "production") != "dev" or not sys.stderr.isatty()
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_trace_ids,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)


def add_trace_ids(_logger, _method, event_dict: dict) -> dict:
    """`trace_id` and `span_id` of the active span, on every line written while a trace is active."""
    if "trace_id" not in event_dict:
        event_dict.update(span_ids())
    return event_dict
