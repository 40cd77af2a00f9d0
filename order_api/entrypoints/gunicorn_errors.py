"""Requests gunicorn rejects itself (an invalid header, a too-long request line) get our JSON
error envelope instead of gunicorn's HTML page.

gunicorn has no hook for this answer, so `install()` replaces `gunicorn.util.write_error`, the one
function every worker calls to write it; the CLI calls it in the master, before workers fork.
"""
import json

import gunicorn.util

CODES = {400: "VALIDATION_ERROR", 403: "FORBIDDEN", 413: "PAYLOAD_TOO_LARGE", 500: "INTERNAL_ERROR"}


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    code = CODES.get(status_int, "BAD_REQUEST" if 400 <= status_int < 500 else "INTERNAL_ERROR")
    message = mesg if status_int < 500 and mesg else reason
    body = json.dumps({"error": {"code": code, "message": message}})
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body.encode())}\r\n\r\n"
    )
    gunicorn.util.write_nonblock(sock, head.encode("latin-1") + body.encode())


def install() -> None:
    gunicorn.util.write_error = write_json_error
