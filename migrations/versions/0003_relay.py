"""What the relay needs beyond DESIGN.md's columns: a retry time and indexes for claim and retention.

- `next_attempt_at`: null until a publish attempt failed; then the row (and, through the per-key
  rule, every later row of its key) is not claimed before that time (exponential backoff).
- `ix_outbox_pending_key`: the per-key rule "no older pending row of my key" is one index probe.
- `ix_outbox_published_at`: retention finds old published rows without scanning the history.

Revision ID: 0003_relay
Revises: 0002_domain
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_relay"
down_revision = "0002_domain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_outbox_pending_key",
        "outbox",
        ["aggregateid", "id"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_index(
        "ix_outbox_published_at",
        "outbox",
        ["published_at"],
        postgresql_where=sa.text("published_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_published_at", table_name="outbox")
    op.drop_index("ix_outbox_pending_key", table_name="outbox")
    op.drop_column("outbox", "next_attempt_at")
