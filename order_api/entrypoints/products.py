"""HTTP: products (created by an admin) with their options."""
from order_api.entrypoints.blueprint import Blueprint

from order_api.entrypoints import schemas as s, views as v
from order_api.entrypoints.auth import ADMIN_SECURITY, require_admin
from order_api.entrypoints.context import transaction
from order_api.service_layer import products

blp = Blueprint("products", __name__, url_prefix="/api/products", description="Products and options")


@blp.route("", methods=["POST"])
@require_admin
@blp.doc(security=ADMIN_SECURITY)
@blp.arguments(s.CreateProductRequest())
@blp.response(201, v.ProductResponse())
@blp.alt_response(401, schema=v.ErrorResponse, description="UNAUTHORIZED")
def create_product(body):
    return transaction(lambda session: products.create_product(session, **body))


@blp.route("/<id(product):productId>", methods=["GET"])
@blp.response(200, v.ProductResponse())
@blp.alt_response(404, schema=v.ErrorResponse, description="PRODUCT_NOT_FOUND")
def get_product(productId: int):
    return transaction(lambda session: products.get_product(session, productId))
