"""HTTP: users and balances."""
from flask import request

from order_api.domain import errors
from order_api.entrypoints.blueprint import Blueprint
from order_api.entrypoints import schemas as s, views as v
from order_api.entrypoints.context import transaction
from order_api.service_layer import users

blp = Blueprint("users", __name__, url_prefix="/api/users", description="Users and their balance")


@blp.route("", methods=["POST"])
@blp.arguments(s.CreateUserRequest())
@blp.response(201, v.BalanceResponse())
def create_user(_body):
    if not request.is_json or not request.get_data():
        raise errors.ValidationFailed("a JSON object body is required, e.g. {}")
    return transaction(users.create_user)


@blp.route("/<id(user):userId>/balance", methods=["GET"])
@blp.response(200, v.BalanceResponse())
@blp.alt_response(404, schema=v.ErrorResponse, description="USER_NOT_FOUND")
def get_balance(userId: int):
    return transaction(lambda session: users.get_balance(session, userId))


@blp.route("/<id(user):userId>/balance/charge", methods=["POST"])
@blp.arguments(s.ChargeRequest())
@blp.response(200, v.BalanceResponse())
@blp.alt_response(404, schema=v.ErrorResponse, description="USER_NOT_FOUND")
def charge(body, userId: int):
    return transaction(lambda session: users.charge(session, userId, body["amount"]))
