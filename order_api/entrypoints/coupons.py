"""HTTP: coupons (created by an admin) and issuing one to a user."""
from order_api.entrypoints.blueprint import Blueprint

from order_api.entrypoints import schemas as s, views as v
from order_api.entrypoints.auth import ADMIN_SECURITY, require_admin
from order_api.entrypoints.context import transaction, utc_now
from order_api.service_layer import coupons

blp = Blueprint("coupons", __name__, url_prefix="/api/coupons", description="Coupons")


@blp.route("", methods=["POST"])
@require_admin
@blp.doc(security=ADMIN_SECURITY)
@blp.arguments(s.CreateCouponRequest())
@blp.response(201, v.CouponResponse())
@blp.alt_response(401, schema=v.ErrorResponse, description="UNAUTHORIZED")
def create_coupon(body):
    return transaction(
        lambda session: coupons.create_coupon(
            session, name=body["name"], discount_rate=body["discountRate"],
            total_quantity=body["totalQuantity"], expires_at=body["expiresAt"],
        )
    )


@blp.route("/<id(coupon):couponId>/issue", methods=["POST"])
@blp.arguments(s.IssueCouponRequest())
@blp.response(201, v.UserCouponResponse())
@blp.alt_response(404, schema=v.ErrorResponse, description="COUPON_NOT_FOUND, USER_NOT_FOUND")
@blp.alt_response(409, schema=v.ErrorResponse, description="COUPON_SOLD_OUT, COUPON_ALREADY_ISSUED, INVALID_COUPON")
def issue_coupon(body, couponId: int):
    now = utc_now()
    return transaction(
        lambda session: coupons.issue_coupon(session, coupon_id=couponId, user_id=body["userId"], now=now)
    )
