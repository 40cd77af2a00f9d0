"""The relay's retry times move to a table of their own, so `outbox` has exactly DESIGN.md's columns.

`outbox_retry` holds one row per outbox row whose publish failed: the row (and, through the
per-key rule, every later row of its key) is not claimed before `next_attempt_at` (exponential
backoff). Rows go with their outbox row (ON DELETE CASCADE, i.e. with retention).

Revision ID: 0004_outbox_retry
Revises: 0003_relay
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_outbox_retry"
down_revision = "0003_relay"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_retry",
        sa.Column(
            "outbox_id", sa.BigInteger, sa.ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO outbox_retry (outbox_id, next_attempt_at) "
        "SELECT id, next_attempt_at FROM outbox WHERE next_attempt_at IS NOT NULL AND published_at IS NULL"
    )
    op.drop_column("outbox", "next_attempt_at")


def downgrade() -> None:
    op.add_column("outbox", sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE outbox SET next_attempt_at = r.next_attempt_at FROM outbox_retry r WHERE r.outbox_id = outbox.id"
    )
    op.drop_table("outbox_retry")
