"""The outbox table: the one definition shared by the writer (order_api) and the reader (outbox_relay).

An event exists only if the transaction that caused it commits: `add_event` writes through the
caller's connection or session and never commits.
"""
import json
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.dialects.postgresql import JSONB, UUID

from common.db import driver_execute, metadata

NOTIFY_CHANNEL = "outbox_pending"

# ix_outbox_pending_key's predicate: pending rows, said so that no other partial index matches it.
PENDING_KEY_PREDICATE = "coalesce(published_at, '-infinity'::timestamptz) = '-infinity'::timestamptz"

# The plain table (the default). With OUTBOX_LAYOUT=partitioned, migration 0005 makes it a table
# partitioned by day on created_at: primary key (id, created_at), event_id unique per day, and
# outbox_retry without its foreign key; the columns and the queries stay the same.
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("aggregatetype", Text, nullable=False),
    Column("aggregateid", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text, nullable=True),
    Index("ix_outbox_pending", "id", postgresql_where=text("published_at IS NULL")),
    Index("ix_outbox_aggregateid", "aggregateid"),
    # the claim's per-key probe only (its own predicate, the same rows: migration 0006)
    Index("ix_outbox_pending_key", "aggregateid", "id", postgresql_where=text(PENDING_KEY_PREDICATE)),
    Index("ix_outbox_published_at", "published_at", postgresql_where=text("published_at IS NOT NULL")),
    UniqueConstraint("event_id", name="uq_outbox_event_id"),
)

# The relay's own bookkeeping, beside the contract's table (0004_outbox_retry): after a failed
# publish, the row is not claimed again before `next_attempt_at`.
outbox_retry = Table(
    "outbox_retry",
    metadata,
    Column("outbox_id", BigInteger, ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
)

# Plain driver SQL (a payment writes one event per request, and compiling the Core insert cost more
# than the insert itself). The payload and headers go as JSON text.
_INSERT_EVENT = (
    "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload, headers) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


def add_event(
    conn: Session | Connection,
    *,
    aggregatetype: str,
    aggregateid: str,
    event_type: str,
    topic: str,
    payload: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> uuid.UUID:
    """Insert one event row inside the caller's transaction; returns its event_id."""
    event_id = uuid.uuid4()
    connection = conn.connection() if isinstance(conn, Session) else conn  # the caller's transaction
    driver_execute(connection, _INSERT_EVENT, (
        str(event_id), aggregatetype, aggregateid, event_type, topic, json.dumps(payload), json.dumps(headers or {}),
    ))
    return event_id

