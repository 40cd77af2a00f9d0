"""Admin endpoints: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time."""
import hmac
from functools import wraps

from flask import request

from order_api.entrypoints.context import settings
from order_api.entrypoints.errors import Unauthorized

ADMIN_SECURITY = [{"bearerAuth": []}]


def require_admin(view):
    @wraps(view)
    def guarded(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        expected = settings().admin_token or ""
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
            raise Unauthorized()
        return view(*args, **kwargs)

    return guarded
