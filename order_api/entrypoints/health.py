"""HTTP: liveness, readiness (the database answers) and Prometheus metrics."""
from order_api.entrypoints.blueprint import Blueprint
from sqlalchemy import text

from order_api.entrypoints import views as v
from order_api.entrypoints.context import resources
from order_api.entrypoints.errors import ServiceUnavailable
from order_api.entrypoints.observability import metrics_text

blp = Blueprint("health", __name__, description="Health and metrics")


@blp.route("/healthz", methods=["GET"])
@blp.response(200, v.HealthResponse())
def healthz():
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@blp.response(200, v.HealthResponse())
@blp.alt_response(503, schema=v.ErrorResponse, description="SERVICE_UNAVAILABLE")
def readyz():
    try:
        with resources().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        raise ServiceUnavailable(f"database unavailable: {type(error).__name__}") from error
    return {"status": "ready"}


@blp.route("/metrics", methods=["GET"])
@blp.response(200, content_type="text/plain", description="Prometheus text format")
def metrics():
    return metrics_text()
