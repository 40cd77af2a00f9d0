"""The errors of the domain and the service layer: one hierarchy, each class carrying its status and code.

The codes are DESIGN.md's error table; only the entrypoint turns them into HTTP, and the errors
only HTTP can cause (token, method, body size, database unreachable) live there too.
"""


class ApiError(Exception):
    status = 500
    code = "INTERNAL_ERROR"
    default_message = "internal error"

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class ValidationFailed(ApiError):
    status, code, default_message = 400, "VALIDATION_ERROR", "invalid request"


class Forbidden(ApiError):
    status, code, default_message = 403, "FORBIDDEN", "the order belongs to another user"


class NotFound(ApiError):
    status, code, default_message = 404, "NOT_FOUND", "no such resource"


class UserNotFound(NotFound):
    code, default_message = "USER_NOT_FOUND", "user not found"


class ProductNotFound(NotFound):
    code, default_message = "PRODUCT_NOT_FOUND", "product not found"


class ProductOptionNotFound(NotFound):
    code, default_message = "PRODUCT_OPTION_NOT_FOUND", "product option not found"


class OrderNotFound(NotFound):
    code, default_message = "ORDER_NOT_FOUND", "order not found"


class CouponNotFound(NotFound):
    code, default_message = "COUPON_NOT_FOUND", "coupon not found"


class Conflict(ApiError):
    status = 409


class InsufficientStock(Conflict):
    code, default_message = "INSUFFICIENT_STOCK", "not enough stock"


class InsufficientBalance(Conflict):
    code, default_message = "INSUFFICIENT_BALANCE", "not enough balance"


class OrderExpired(Conflict):
    code, default_message = "ORDER_EXPIRED", "the order has expired"


class AlreadyPaid(Conflict):
    code, default_message = "ALREADY_PAID", "the order is already paid"


class InvalidCoupon(Conflict):
    code, default_message = "INVALID_COUPON", "the coupon is not usable"


class CouponSoldOut(Conflict):
    code, default_message = "COUPON_SOLD_OUT", "no coupons left"


class CouponAlreadyIssued(Conflict):
    code, default_message = "COUPON_ALREADY_ISSUED", "the user already holds this coupon"


class IdempotencyKeyReused(Conflict):
    code, default_message = "IDEMPOTENCY_KEY_REUSED", "the idempotency key was used for another request"
