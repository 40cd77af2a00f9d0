"""The domain tables as typed SQLAlchemy models on the shared `common.db.metadata`.

CHECK constraints make an oversell or a negative balance impossible even if code were wrong;
migrations/versions/0002_domain.py creates exactly these tables.
"""
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from common.db import metadata


class Base(DeclarativeBase):
    metadata = metadata


def _id() -> Mapped[int]:
    return mapped_column(BigInteger, Identity(always=False), primary_key=True)


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_non_negative"),)

    id: Mapped[int] = _id()
    balance: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    created_at: Mapped[datetime] = _created_at()


class BalanceLog(Base):
    __tablename__ = "balance_log"
    __table_args__ = (
        CheckConstraint("code IN ('CHARGE', 'PAYMENT')", name="code_known"),
        CheckConstraint("balance_after = balance_before + amount", name="amount_adds_up"),
        CheckConstraint("balance_after >= 0", name="balance_after_non_negative"),
        Index("ix_balance_log_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = _id()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    code: Mapped[str] = mapped_column(Text, nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    balance_before: Mapped[int] = mapped_column(BigInteger, nullable=False)
    balance_after: Mapped[int] = mapped_column(BigInteger, nullable=False)
    ref_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = _created_at()


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (CheckConstraint("price >= 0", name="price_non_negative"),)

    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    category: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created_at()
    options: Mapped[list["ProductOption"]] = relationship(
        back_populates="product", order_by="ProductOption.id", lazy="selectin"
    )


class ProductOption(Base):
    __tablename__ = "product_options"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_non_negative"),
        CheckConstraint("reserved_stock >= 0 AND reserved_stock <= stock", name="reserved_within_stock"),
        Index("ix_product_options_product_id", "product_id"),
    )

    id: Mapped[int] = _id()
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), nullable=False)
    color: Mapped[str] = mapped_column(Text, nullable=False)
    size: Mapped[str] = mapped_column(Text, nullable=False)
    stock: Mapped[int] = mapped_column(Integer, nullable=False)
    reserved_stock: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    product: Mapped[Product] = relationship(back_populates="options", lazy="joined")

    @property
    def available(self) -> int:
        return self.stock - self.reserved_stock


class Coupon(Base):
    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("discount_rate BETWEEN 1 AND 100", name="discount_rate_percent"),
        CheckConstraint("total_quantity > 0", name="total_quantity_positive"),
        CheckConstraint(
            "issued_quantity >= 0 AND issued_quantity <= total_quantity", name="issued_within_total"
        ),
    )

    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    discount_rate: Mapped[int] = mapped_column(Integer, nullable=False)
    total_quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    issued_quantity: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = _created_at()


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("status IN ('PENDING', 'PAID', 'EXPIRED')", name="status_known"),
        CheckConstraint("total_amount >= 0", name="total_amount_non_negative"),
        CheckConstraint(
            "discount_amount >= 0 AND discount_amount <= total_amount", name="discount_within_total"
        ),
        CheckConstraint("(status = 'PAID') = (paid_at IS NOT NULL)", name="paid_iff_paid_at"),
        CheckConstraint(
            "final_amount IS NULL OR final_amount = total_amount - discount_amount",
            name="final_amount_adds_up",
        ),
        Index("ix_orders_user_id", "user_id"),
        Index("ix_orders_pending_expires_at", "expires_at", postgresql_where=text("status = 'PENDING'")),
    )

    id: Mapped[int] = _id()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    total_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    discount_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    final_amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    items: Mapped[list["OrderItem"]] = relationship(
        back_populates="order", order_by="OrderItem.id", lazy="selectin"
    )


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("price >= 0", name="price_non_negative"),
        CheckConstraint("subtotal = price * quantity", name="subtotal_adds_up"),
        UniqueConstraint("order_id", "product_option_id", name="uq_order_items_order_id_product_option_id"),
        Index("ix_order_items_product_option_id", "product_option_id"),
    )

    id: Mapped[int] = _id()
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    product_option_id: Mapped[int] = mapped_column(ForeignKey("product_options.id"), nullable=False)
    product_name: Mapped[str] = mapped_column(Text, nullable=False)
    price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    subtotal: Mapped[int] = mapped_column(BigInteger, nullable=False)
    order: Mapped[Order] = relationship(back_populates="items")


class UserCoupon(Base):
    __tablename__ = "user_coupons"
    __table_args__ = (
        UniqueConstraint("user_id", "coupon_id", name="uq_user_coupons_user_id_coupon_id"),
        CheckConstraint("(used_at IS NULL) = (order_id IS NULL)", name="used_iff_order"),
        Index("ix_user_coupons_coupon_id", "coupon_id"),
        Index("uq_user_coupons_order_id", "order_id", unique=True, postgresql_where=text("order_id IS NOT NULL")),
    )

    id: Mapped[int] = _id()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id", ondelete="CASCADE"), nullable=False)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        CheckConstraint("length(key) BETWEEN 1 AND 255", name="key_length"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    request_hash: Mapped[str] = mapped_column(Text, nullable=False)
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    created_at: Mapped[datetime] = _created_at()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
