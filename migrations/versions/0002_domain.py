"""The domain tables: users, balance log, products and options, coupons, orders, idempotency keys.

CHECK constraints make an oversell or a negative balance impossible even if code were wrong.
Constraint names are spelled out as `common.db.NAMING_CONVENTION` would make them, so the models in
order_api/adapters/orm.py and this migration compare equal.

Revision ID: 0002_domain
Revises: 0001_outbox
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002_domain"
down_revision = "0001_outbox"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger, sa.Identity(always=False), nullable=False)


def _created_at(name: str = "created_at") -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _check(table: str, name: str, condition: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{name}"))


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("balance", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        _check("users", "balance_non_negative", "balance >= 0"),
    )
    op.create_table(
        "balance_log",
        _id(),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("balance_before", sa.BigInteger, nullable=False),
        sa.Column("balance_after", sa.BigInteger, nullable=False),
        sa.Column("ref_id", sa.BigInteger, nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_log")),
        _fk("balance_log", "user_id", "users", "CASCADE"),
        _check("balance_log", "code_known", "code IN ('CHARGE', 'PAYMENT')"),
        _check("balance_log", "amount_adds_up", "balance_after = balance_before + amount"),
        _check("balance_log", "balance_after_non_negative", "balance_after >= 0"),
    )
    op.create_index("ix_balance_log_user_id_id", "balance_log", ["user_id", "id"])
    op.create_table(
        "products",
        _id(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("price", sa.BigInteger, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        _check("products", "price_non_negative", "price >= 0"),
    )
    op.create_table(
        "product_options",
        _id(),
        sa.Column("product_id", sa.BigInteger, nullable=False),
        sa.Column("color", sa.Text, nullable=False),
        sa.Column("size", sa.Text, nullable=False),
        sa.Column("stock", sa.Integer, nullable=False),
        sa.Column("reserved_stock", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_options")),
        _fk("product_options", "product_id", "products", "CASCADE"),
        _check("product_options", "stock_non_negative", "stock >= 0"),
        _check(
            "product_options", "reserved_within_stock", "reserved_stock >= 0 AND reserved_stock <= stock"
        ),
    )
    op.create_index("ix_product_options_product_id", "product_options", ["product_id"])
    op.create_table(
        "coupons",
        _id(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("discount_rate", sa.Integer, nullable=False),
        sa.Column("total_quantity", sa.Integer, nullable=False),
        sa.Column("issued_quantity", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        _check("coupons", "discount_rate_percent", "discount_rate BETWEEN 1 AND 100"),
        _check("coupons", "total_quantity_positive", "total_quantity > 0"),
        _check(
            "coupons",
            "issued_within_total",
            "issued_quantity >= 0 AND issued_quantity <= total_quantity",
        ),
    )
    op.create_table(
        "orders",
        _id(),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("total_amount", sa.BigInteger, nullable=False),
        sa.Column("discount_amount", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("final_amount", sa.BigInteger, nullable=True),
        sa.Column("coupon_id", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        _fk("orders", "user_id", "users", "CASCADE"),
        _fk("orders", "coupon_id", "coupons"),
        _check("orders", "status_known", "status IN ('PENDING', 'PAID', 'EXPIRED')"),
        _check("orders", "total_amount_non_negative", "total_amount >= 0"),
        _check(
            "orders", "discount_within_total", "discount_amount >= 0 AND discount_amount <= total_amount"
        ),
        _check("orders", "paid_iff_paid_at", "(status = 'PAID') = (paid_at IS NOT NULL)"),
        _check(
            "orders",
            "final_amount_adds_up",
            "final_amount IS NULL OR final_amount = total_amount - discount_amount",
        ),
    )
    op.create_index("ix_orders_user_id", "orders", ["user_id"])
    op.create_index(
        "ix_orders_pending_expires_at",
        "orders",
        ["expires_at"],
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.create_table(
        "order_items",
        _id(),
        sa.Column("order_id", sa.BigInteger, nullable=False),
        sa.Column("product_option_id", sa.BigInteger, nullable=False),
        sa.Column("product_name", sa.Text, nullable=False),
        sa.Column("price", sa.BigInteger, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("subtotal", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_items")),
        _fk("order_items", "order_id", "orders", "CASCADE"),
        _fk("order_items", "product_option_id", "product_options"),
        sa.UniqueConstraint(
            "order_id", "product_option_id", name=op.f("uq_order_items_order_id_product_option_id")
        ),
        _check("order_items", "quantity_positive", "quantity > 0"),
        _check("order_items", "price_non_negative", "price >= 0"),
        _check("order_items", "subtotal_adds_up", "subtotal = price * quantity"),
    )
    op.create_index("ix_order_items_product_option_id", "order_items", ["product_option_id"])
    op.create_table(
        "user_coupons",
        _id(),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("coupon_id", sa.BigInteger, nullable=False),
        sa.Column("order_id", sa.BigInteger, nullable=True),
        _created_at("issued_at"),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_coupons")),
        _fk("user_coupons", "user_id", "users", "CASCADE"),
        _fk("user_coupons", "coupon_id", "coupons", "CASCADE"),
        _fk("user_coupons", "order_id", "orders"),
        sa.UniqueConstraint("user_id", "coupon_id", name=op.f("uq_user_coupons_user_id_coupon_id")),
        _check("user_coupons", "used_iff_order", "(used_at IS NULL) = (order_id IS NULL)"),
    )
    op.create_index("ix_user_coupons_coupon_id", "user_coupons", ["coupon_id"])
    op.create_index(
        "uq_user_coupons_order_id",
        "user_coupons",
        ["order_id"],
        unique=True,
        postgresql_where=sa.text("order_id IS NOT NULL"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("request_hash", sa.Text, nullable=False),
        sa.Column("response_status", sa.Integer, nullable=True),
        sa.Column("response_body", JSONB, nullable=True),
        _created_at(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_keys")),
        _check("idempotency_keys", "key_length", "length(key) BETWEEN 1 AND 255"),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    for table in (
        "idempotency_keys",
        "user_coupons",
        "order_items",
        "orders",
        "coupons",
        "product_options",
        "products",
        "balance_log",
        "users",
    ):
        op.drop_table(table)
