"""What the cart and checkout pages show for the cart's lines: titles, prices, stock, stores.

Read fresh on every page (the cookie holds only ids and quantities). A cart is at most a few
dozen lines, so lines are looked up one by one, with each product and store read once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog import service as catalog_service
from o2o.catalog.exceptions import ProductNotFound, VariantNotFound
from o2o.catalog.models import Product, Variant
from o2o.inventory import queries as inventory_queries
from o2o.merchants import service as merchants_service
from o2o.merchants.exceptions import StoreNotFound
from o2o.merchants.models import Store
from o2o.web.cart import Cart, CartLine


@dataclass(frozen=True)
class LineView:
    line: CartLine
    variant: Variant
    product: Product
    available: int

    @property
    def total(self) -> int:
        return self.variant.price * self.line.qty

    @property
    def short(self) -> bool:
        return self.available < self.line.qty


@dataclass(frozen=True)
class StoreGroup:
    store: Store
    lines: list[LineView]

    @property
    def subtotal(self) -> int:
        return sum(view.total for view in self.lines)

    @property
    def currency(self) -> str:
        return self.lines[0].product.currency if self.lines else "CNY"

    @property
    def count(self) -> int:
        return sum(view.line.qty for view in self.lines)


async def groups(session: AsyncSession, cart: Cart) -> list[StoreGroup]:
    """The cart by store, in the order stores were added. Lines whose item or store has gone
    are left out (and fall out of the cookie the next time it is written)."""
    out: list[StoreGroup] = []
    products: dict[int, Product] = {}
    for store_id in cart.stores():
        try:
            store = await merchants_service.get_store(session, store_id=store_id)
        except StoreNotFound:
            continue
        lines = cart.at(store_id)
        stock = (
            await inventory_queries.available_at(
                session, variant_ids=[x.variant_id for x in lines], store_ids=[store_id]
            )
        ).get(store_id, {})
        views: list[LineView] = []
        for line in lines:
            try:
                variant = await catalog_service.get_variant(session, variant_id=line.variant_id)
                if variant.product_id not in products:
                    products[variant.product_id] = await catalog_service.get_product(
                        session, product_id=variant.product_id
                    )
            except (VariantNotFound, ProductNotFound):
                continue
            views.append(
                LineView(line, variant, products[variant.product_id], stock.get(variant.id, 0))
            )
        if views:
            out.append(StoreGroup(store, views))
    return out
