"""Idempotency keys: the same key and request get the first answer, without doing the work twice.

The key is claimed (inserted) at the start of the request's own transaction and its answer stored at
the end, so a racing duplicate waits on the unique key until the first commits and then reads its
answer. A failed request rolls the claim back with everything else: no trace, and a retry runs anew.
"""
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from order_api.adapters.orm import IdempotencyKey
from order_api.domain import errors


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]


def fingerprint(method: str, path: str, body: dict[str, Any]) -> str:
    canonical = json.dumps({"method": method, "path": path, "body": body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(session: Session, *, key: str, request_hash: str, ttl: timedelta, now: datetime) -> StoredResponse | None:
    """None if this request now owns the key; the first answer if the same request came before."""
    table = IdempotencyKey.__table__
    statement = insert(table).values(key=key, request_hash=request_hash, created_at=now, expires_at=now + ttl)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"request_hash": request_hash, "created_at": now, "expires_at": now + ttl,
              "response_status": None, "response_body": None},
        where=table.c.expires_at <= now,
    ).returning(table.c.key)
    if session.execute(statement).first() is not None:
        return None
    existing = session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == key)).one()
    if existing.request_hash != request_hash or existing.response_status is None:
        raise errors.IdempotencyKeyReused()
    return StoredResponse(existing.response_status, existing.response_body)


def record(session: Session, *, key: str, status: int, body: dict[str, Any]) -> None:
    row = session.get(IdempotencyKey, key)
    row.response_status, row.response_body = status, body
    session.flush()


def purge_expired(session: Session, *, now: datetime) -> int:
    return session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now)).rowcount
