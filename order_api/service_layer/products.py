"""Products and their options; a product's shown stock is what is available (stock − reserved)."""
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, lazyload

from order_api.adapters.orm import Product, ProductOption
from order_api.domain import errors


def create_product(session: Session, *, name: str, price: int, category: str, options: list[dict]) -> Product:
    product = Product(name=name, price=price, category=category)
    product.options = [
        ProductOption(color=o["color"], size=o["size"], stock=o["stock"], reserved_stock=0) for o in options
    ]
    session.add(product)
    session.flush()
    return product


def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise errors.ProductNotFound(f"product {product_id} not found")
    return product


def lock_options(session: Session, option_ids: list[int], *, with_product: bool = True) -> dict[int, ProductOption]:
    """Lock the options in id order (the fixed order that keeps concurrent orders deadlock-free)."""
    query = (
        select(ProductOption)
        .options(joinedload(ProductOption.product) if with_product else lazyload(ProductOption.product))
        .where(ProductOption.id.in_(option_ids))
        .order_by(ProductOption.id)
        .with_for_update(of=ProductOption, key_share=True)
    )
    found = {option.id: option for option in session.scalars(query)}
    missing = sorted(set(option_ids) - set(found))
    if missing:
        raise errors.ProductOptionNotFound(f"product option {missing[0]} not found")
    return found
