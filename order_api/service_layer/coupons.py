"""Coupons: created by an admin, issued at most once per user and at most `totalQuantity` times."""
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from order_api.adapters.orm import Coupon, UserCoupon
from order_api.domain import errors
from order_api.service_layer.users import get_user


def create_coupon(
    session: Session, *, name: str, discount_rate: int, total_quantity: int, expires_at: datetime
) -> Coupon:
    coupon = Coupon(
        name=name, discount_rate=discount_rate, total_quantity=total_quantity, issued_quantity=0,
        expires_at=expires_at,
    )
    session.add(coupon)
    session.flush()
    return coupon


def get_coupon(session: Session, coupon_id: int, *, for_update: bool = False) -> Coupon:
    query = select(Coupon).where(Coupon.id == coupon_id)
    if for_update:
        query = query.with_for_update(key_share=True)
    coupon = session.scalars(query).one_or_none()
    if coupon is None:
        raise errors.CouponNotFound(f"coupon {coupon_id} not found")
    return coupon


def issue_coupon(session: Session, *, coupon_id: int, user_id: int, now: datetime) -> UserCoupon:
    coupon = get_coupon(session, coupon_id, for_update=True)
    get_user(session, user_id)
    held = select(UserCoupon.id).where(UserCoupon.user_id == user_id, UserCoupon.coupon_id == coupon_id)
    if session.scalar(held) is not None:
        raise errors.CouponAlreadyIssued()
    if coupon.expires_at <= now:
        raise errors.InvalidCoupon("the coupon has expired")
    if coupon.issued_quantity >= coupon.total_quantity:
        raise errors.CouponSoldOut()
    coupon.issued_quantity += 1
    user_coupon = UserCoupon(user_id=user_id, coupon_id=coupon_id, issued_at=now)
    session.add(user_coupon)
    session.flush()
    return user_coupon


def lock_usable_coupon(session: Session, *, coupon_id: int, user_id: int, now: datetime) -> tuple[Coupon, UserCoupon]:
    """The user's unused, unexpired copy of the coupon, locked; INVALID_COUPON otherwise."""
    coupon = get_coupon(session, coupon_id)
    query = (
        select(UserCoupon)
        .where(UserCoupon.user_id == user_id, UserCoupon.coupon_id == coupon_id)
        .with_for_update(key_share=True)
    )
    user_coupon = session.scalars(query).one_or_none()
    if user_coupon is None:
        raise errors.InvalidCoupon("the user does not hold this coupon")
    if user_coupon.used_at is not None:
        raise errors.InvalidCoupon("the coupon has already been used")
    if coupon.expires_at <= now:
        raise errors.InvalidCoupon("the coupon has expired")
    return coupon, user_coupon
