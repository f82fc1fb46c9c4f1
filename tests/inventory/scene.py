"""A merchant with a store and a product in many sizes, shared by the stock tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog import service as catalog_service
from o2o.catalog.models import Variant
from o2o.inventory import service as inventory_service
from o2o.inventory.models import StockLevel
from o2o.merchants.models import Merchant, Store
from o2o.regions.models import Region
from tests.factories import make_merchant, make_product, make_region, make_store

SIZES = ("XS", "S", "M", "L", "XL", "XXL", "3XL")


@dataclass
class Shop:
    region: Region
    merchant: Merchant
    store: Store
    variants: list[Variant]


async def make_shop(session: AsyncSession, *, sizes: tuple[str, ...] = SIZES) -> Shop:
    region = await make_region(session)
    merchant = await make_merchant(session)
    store = await make_store(session, merchant=merchant, region=region)
    product = await make_product(session, merchant=merchant, sizes=sizes)
    variants = await catalog_service.variants_of(session, product.id)
    return Shop(region, merchant, store, variants)


async def reserve(session: AsyncSession, *, store: Store, variant_id: int, qty: int) -> None:
    """Stand-in for an order's reservation (the orders domain will own this)."""
    await session.execute(
        update(StockLevel)
        .where(StockLevel.store_id == store.id, StockLevel.variant_id == variant_id)
        .values(reserved=qty)
    )


async def level_of(session: AsyncSession, store: Store, variant_id: int) -> tuple[int, int]:
    """(on_hand, reserved) as the database has it now; (0, 0) without a row."""
    level = await inventory_service.get_level(session, store_id=store.id, variant_id=variant_id)
    if level is None:
        return (0, 0)
    await session.refresh(level)
    return (level.on_hand, level.reserved)
