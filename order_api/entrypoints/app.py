"""The Flask application factory: settings, database, blueprints, errors, logs and metrics.

Migrations are not applied here; they run as a separate pre-start step (`alembic upgrade head`).
"""
from flask import Flask
from flask_smorest import Api

from common import tracing
from common.log import configure_logging
from order_api.adapters.database import engine_for, session_factory
from order_api.config import Settings, get_settings
from order_api.entrypoints.body_limit import BodyLimit
from order_api.entrypoints import coupons, errors, health, observability, orders, path_ids, products, users
from order_api.entrypoints.context import EXTENSION, Resources
from order_api.entrypoints.views import ErrorResponse


class OrderApi(Api):
    """flask-smorest's Api with our error envelope in the spec and validation errors as 400."""

    ERROR_SCHEMA = ErrorResponse

    def _register_error_handlers(self):
        errors.register(self._app)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    configure_logging("order-api", level=settings.log_level)
    traced = tracing.configure_tracing("order-api")
    if traced:
        instrument_database()
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE="Order API",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    engine = engine_for(settings)
    app.extensions[EXTENSION] = Resources(settings, engine, session_factory(engine))
    api = OrderApi(app)
    path_ids.install(app, api)
    for module in (users, products, coupons, orders, health):
        api.register_blueprint(module.blp)
    observability.install(app)
    app.wsgi_app = BodyLimit(app.wsgi_app, settings.max_body_bytes)
    if traced:
        instrument_requests(app)
    return app


def instrument_database() -> None:
    """psycopg2 spans for every statement, before the engine makes its first connection."""
    from opentelemetry.instrumentation.psycopg2 import Psycopg2Instrumentor

    if not Psycopg2Instrumentor().is_instrumented_by_opentelemetry:
        Psycopg2Instrumentor().instrument(enable_commenter=False)


def instrument_requests(app: Flask) -> None:
    """An HTTP server span per request, continuing the caller's `traceparent` (OpenTelemetry's Flask package)."""
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    FlaskInstrumentor().instrument_app(app, excluded_urls="healthz,readyz,metrics")
