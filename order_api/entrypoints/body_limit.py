"""Bodies over API_MAX_BODY_BYTES get 413 PAYLOAD_TOO_LARGE, also when sent chunked.

Flask refuses a too-large Content-Length by itself; a chunked body has none, and werkzeug would
silently cut it at the limit (and the cut JSON would look malformed). This middleware buffers
such a body up to the limit and answers 413 if there is more, before Flask sees the request, so it
sets `X-Request-ID` itself, as observability does for every other response.
"""
import io
import json

from order_api.entrypoints.errors import PayloadTooLarge
from order_api.entrypoints.observability import REQUEST_ID_HEADER, request_id


class BodyLimit:
    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    def __call__(self, environ, start_response):
        if environ.get("CONTENT_LENGTH") in (None, "") and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            body = environ["wsgi.input"].read(self.max_bytes + 1)
            if len(body) > self.max_bytes:
                return self.too_large(environ, start_response)
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        return self.app(environ, start_response)

    @staticmethod
    def too_large(environ, start_response):
        error = PayloadTooLarge()
        payload = json.dumps({"error": {"code": error.code, "message": error.message}}).encode()
        start_response("413 Request Entity Too Large", [
            ("Content-Type", "application/json"), ("Content-Length", str(len(payload))), ("Connection", "close"),
            (REQUEST_ID_HEADER, request_id(environ.get("HTTP_X_REQUEST_ID", ""))),
        ])
        return [payload]
