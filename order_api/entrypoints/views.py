"""Read models: the JSON each endpoint answers with, defined once, read from the domain's values.

The service layer returns domain values (rows, settlements); these schemas name their fields in
camelCase for the client and in /openapi.json. Times are UTC with milliseconds.
"""
import marshmallow as ma
from marshmallow import fields, validate

from order_api.domain.rules import OrderStatus
from order_api.entrypoints.schemas import UtcDateTime


class ErrorBody(ma.Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)


class ErrorResponse(ma.Schema):
    error = fields.Nested(ErrorBody, required=True)


class BalanceResponse(ma.Schema):
    """A user (`adapters.orm.User`)."""

    userId = fields.Integer(required=True, attribute="id")
    balance = fields.Integer(required=True)


class OptionResponse(ma.Schema):
    productOptionId = fields.Integer(required=True, attribute="id")
    color = fields.String(required=True)
    size = fields.String(required=True)
    stock = fields.Integer(required=True, attribute="available", metadata={"description": "available: stock − reserved"})


class ProductResponse(ma.Schema):
    """A product with its options (`adapters.orm.Product`)."""

    productId = fields.Integer(required=True, attribute="id")
    name = fields.String(required=True)
    price = fields.Integer(required=True)
    category = fields.String(required=True)
    options = fields.List(fields.Nested(OptionResponse), required=True)


class CouponResponse(ma.Schema):
    """A coupon (`adapters.orm.Coupon`)."""

    couponId = fields.Integer(required=True, attribute="id")
    name = fields.String(required=True)
    discountRate = fields.Integer(required=True, attribute="discount_rate")
    totalQuantity = fields.Integer(required=True, attribute="total_quantity")
    issuedQuantity = fields.Integer(required=True, attribute="issued_quantity")
    expiresAt = UtcDateTime(required=True, attribute="expires_at")


class UserCouponResponse(ma.Schema):
    """A coupon issued to a user (`adapters.orm.UserCoupon`)."""

    userCouponId = fields.Integer(required=True, attribute="id")
    couponId = fields.Integer(required=True, attribute="coupon_id")
    userId = fields.Integer(required=True, attribute="user_id")


class OrderItemResponse(ma.Schema):
    productOptionId = fields.Integer(required=True, attribute="product_option_id")
    productName = fields.String(required=True, attribute="product_name")
    price = fields.Integer(required=True)
    quantity = fields.Integer(required=True)
    subtotal = fields.Integer(required=True)


class OrderResponse(ma.Schema):
    """An order as of the request (`service_layer.orders.OrderAsOf`)."""

    orderId = fields.Integer(required=True, attribute="order.id")
    userId = fields.Integer(required=True, attribute="order.user_id")
    items = fields.List(fields.Nested(OrderItemResponse), required=True, attribute="order.items")
    totalAmount = fields.Integer(required=True, attribute="order.total_amount")
    discountAmount = fields.Integer(required=True, attribute="order.discount_amount")
    finalAmount = fields.Integer(required=True, allow_none=True, attribute="order.final_amount")
    status = fields.String(
        required=True, validate=validate.OneOf([OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.EXPIRED])
    )
    createdAt = UtcDateTime(required=True, attribute="order.created_at")
    paidAt = UtcDateTime(required=True, allow_none=True, attribute="order.paid_at")
    expiresAt = UtcDateTime(required=True, attribute="order.expires_at")


class PaymentResponse(ma.Schema):
    """The receipt of a payment (`service_layer.payment.Settlement`)."""

    orderId = fields.Integer(required=True, attribute="order.id")
    status = fields.String(required=True, validate=validate.OneOf([OrderStatus.PAID]))
    paidAmount = fields.Integer(required=True, attribute="final_amount")
    discountAmount = fields.Integer(required=True, attribute="discount_amount")
    remainingBalance = fields.Integer(required=True, attribute="remaining_balance")
    paidAt = UtcDateTime(required=True, attribute="paid_at")


class HealthResponse(ma.Schema):
    status = fields.String(required=True)
