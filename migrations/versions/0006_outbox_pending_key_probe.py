"""The per-key index of pending rows gets a predicate of its own, so the claim's per-key probe can use
no other partial index.

`ix_outbox_pending_key` (aggregateid, id) and `ix_outbox_pending` (id) had the same predicate,
`published_at IS NULL`, so the relay's probe "no older pending row of my key" could be planned on
either. After an ANALYZE that saw no pending row (the steady state: the relay keeps up), the
planner thought both empty, took the smaller `ix_outbox_pending`, and each candidate row then
walked every older pending row (and, under a long transaction, every dead one): a 1,500-row claim
took 450 ms instead of 35, and 24 s in the soak's long transaction (bench/soak.py). The predicate
`coalesce(published_at, '-infinity') = '-infinity'` means the same rows, and only a query that says
it (the probe, `outbox_relay/claim.py`) can use the index; `ix_outbox_pending` is left to the claim's
walk in id order.

Revision ID: 0006_outbox_pending_key_probe
Revises: 0005_outbox_partitioned
"""
from alembic import op

revision = "0006_outbox_pending_key_probe"
down_revision = "0005_outbox_partitioned"
branch_labels = None
depends_on = None

PROBE_PREDICATE = "coalesce(published_at, '-infinity'::timestamptz) = '-infinity'::timestamptz"


def _replace(predicate: str) -> None:
    op.execute(f"CREATE INDEX ix_outbox_pending_key_new ON outbox (aggregateid, id) WHERE {predicate}")
    op.execute("DROP INDEX ix_outbox_pending_key")
    op.execute("ALTER INDEX ix_outbox_pending_key_new RENAME TO ix_outbox_pending_key")


def upgrade() -> None:
    _replace(PROBE_PREDICATE)


def downgrade() -> None:
    _replace("published_at IS NULL")
