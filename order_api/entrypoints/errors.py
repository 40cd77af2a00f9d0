"""The one place where errors become HTTP: `{"error": {"code", "message"}}`, never a stack trace.

Domain errors carry their status and code; HTTP errors raised by Flask or webargs (404, 405,
413, malformed JSON, validation) are translated, an impossible id in the path to its resource's
404 and an unknown URL to a generic 404 NOT_FOUND; anything else is a logged 500 or, when the
database cannot be reached, a 503.
"""
import structlog
from flask import Flask, jsonify
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from order_api.domain import errors
from order_api.entrypoints.path_ids import NoSuchId

log = structlog.get_logger()


class Unauthorized(errors.ApiError):
    status, code, default_message = 401, "UNAUTHORIZED", "admin token missing or wrong"


class MethodNotAllowed(errors.ApiError):
    status, code, default_message = 405, "METHOD_NOT_ALLOWED", "method not allowed"


class PayloadTooLarge(errors.ApiError):
    status, code, default_message = 413, "PAYLOAD_TOO_LARGE", "request body too large"


class ServiceUnavailable(errors.ApiError):
    status, code, default_message = 503, "SERVICE_UNAVAILABLE", "database unavailable"


HTTP_CODES = {
    400: errors.ValidationFailed,
    401: Unauthorized,
    404: errors.NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: errors.ValidationFailed,
    422: errors.ValidationFailed,
}


def render(error: errors.ApiError):
    response = jsonify({"error": {"code": error.code, "message": error.message}})
    response.status_code = error.status
    return response


def flatten(messages, prefix: str = "") -> list[str]:
    if isinstance(messages, dict):
        return [line for key, value in messages.items() for line in flatten(value, f"{prefix}{key}.")]
    field = prefix.rstrip(".").replace("_schema", "").strip(".")
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{field}: {' '.join(messages)}" if field else " ".join(messages)]
    if isinstance(messages, list):
        return [line for m in messages for line in flatten(m, prefix)]
    return [f"{field}: {messages}" if field else str(messages)]


def from_http(exception: HTTPException) -> errors.ApiError:
    if isinstance(exception, NoSuchId):
        return exception.error
    kind = HTTP_CODES.get(exception.code)
    if kind is None:
        error = errors.ApiError(exception.description)
        error.status, error.code = exception.code, (exception.name or "ERROR").upper().replace(" ", "_")
        return error
    messages = (getattr(exception, "data", None) or {}).get("messages")
    if messages:
        locations = messages.values() if isinstance(messages, dict) else [messages]
        return kind("; ".join(line for m in locations for line in flatten(m)))
    return kind(None if kind is errors.NotFound else exception.description)


def handle_http(exception: HTTPException):
    response = render(from_http(exception))
    for name, value in exception.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_unexpected(exception: Exception):
    if isinstance(exception, (OperationalError, PoolTimeout)) or (
        isinstance(exception, DBAPIError) and exception.connection_invalidated
    ):
        log.warning("database_unavailable", error=str(exception)[:300])
        return render(ServiceUnavailable())
    log.exception("unhandled_error")
    return render(errors.ApiError())


def register(app: Flask) -> None:
    app.register_error_handler(errors.ApiError, render)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)
