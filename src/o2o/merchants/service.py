"""Merchants, categories and stores: the use cases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.errors import InvalidInput
from o2o.core.text import search_document
from o2o.geo.grid import cell_of
from o2o.merchants import hours
from o2o.merchants.exceptions import (
    InvalidCommission,
    MerchantNotFound,
    StoreNotFound,
    UnknownCategory,
)
from o2o.merchants.models import Category, Merchant, MerchantStatus, Store
from o2o.merchants.schemas import StoreCreate, StoreUpdate
from o2o.regions import service as regions_service


async def list_categories(session: AsyncSession) -> list[Category]:
    return list(await session.scalars(select(Category).order_by(Category.id)))


async def category_ids(session: AsyncSession, *, code: str) -> list[int]:
    """The category with this code and its direct children (a filter by a parent)."""
    root = await session.scalar(select(Category).where(Category.code == code))
    if root is None:
        raise UnknownCategory(f"There is no category '{code}'.", field="category")
    children = await session.scalars(select(Category.id).where(Category.parent_id == root.id))
    return [root.id, *children]


async def _category_id(session: AsyncSession, code: str | None) -> int | None:
    if code is None:
        return None
    return (await category_ids(session, code=code))[0]


async def create_category(
    session: AsyncSession, *, code: str, name: str, name_zh: str, parent_code: str | None = None
) -> Category:
    category = Category(
        code=code, name=name, name_zh=name_zh, parent_id=await _category_id(session, parent_code)
    )
    session.add(category)
    await session.flush()
    return category


async def get_merchant(session: AsyncSession, *, merchant_id: int) -> Merchant:
    merchant = await session.get(Merchant, merchant_id)
    if merchant is None:
        raise MerchantNotFound(f"No merchant with id {merchant_id}.")
    return merchant


async def create_merchant(
    session: AsyncSession,
    *,
    name: str,
    name_zh: str,
    category: str | None = None,
    status: MerchantStatus = MerchantStatus.APPROVED,
) -> Merchant:
    merchant = Merchant(
        name=name, name_zh=name_zh, category_id=await _category_id(session, category), status=status
    )
    session.add(merchant)
    await session.flush()
    return merchant


async def get_store(session: AsyncSession, *, store_id: int) -> Store:
    store = await session.get(Store, store_id)
    if store is None:
        raise StoreNotFound(f"No store with id {store_id}.")
    return store


async def list_stores(
    session: AsyncSession,
    *,
    region_id: int | None = None,
    merchant_id: int | None = None,
    after_id: int | None = None,
    limit: int = 20,
    include_inactive: bool = False,
) -> list[Store]:
    """Stores by id (keyset pagination); ``limit + 1`` are fetched to tell if more exist."""
    query = select(Store).order_by(Store.id).limit(limit + 1)
    if region_id is not None:
        query = query.where(Store.region_id == region_id)
    if merchant_id is not None:
        query = query.where(Store.merchant_id == merchant_id)
    if after_id is not None:
        query = query.where(Store.id > after_id)
    if not include_inactive:
        query = query.where(Store.is_active.is_(True))
    return list(await session.scalars(query))


def _store_search_text(store: Store, merchant: Merchant) -> str:
    return search_document(
        store.name, store.name_zh, merchant.name, merchant.name_zh, store.address, store.address_zh
    )


async def create_store(session: AsyncSession, *, merchant_id: int, data: StoreCreate) -> Store:
    """Open a store for a merchant in a region; its position must lie in the region's bounds."""
    merchant = await get_merchant(session, merchant_id=merchant_id)
    region = await regions_service.get_region_by_code(session, code=data.region)
    if not (
        region.min_lat <= data.lat <= region.max_lat
        and region.min_lng <= data.lng <= region.max_lng
    ):
        raise InvalidInput(f"The position lies outside {region.name}'s bounds.", field="lat")
    f = data.fulfilment
    store = Store(
        merchant_id=merchant.id,
        region_id=region.id,
        category_id=await _category_id(session, data.category) or merchant.category_id,
        name=data.name,
        name_zh=data.name_zh,
        address=data.address,
        address_zh=data.address_zh,
        phone=data.phone,
        lat=data.lat,
        lng=data.lng,
        cell=cell_of(data.lat, data.lng),
        opening_hours=hours.validate_week(data.opening_hours),
        hours_exceptions=hours.validate_exceptions(data.hours_exceptions),
        offers_pickup=f.pickup,
        offers_reserve=f.reserve,
        offers_delivery=f.delivery,
        offers_shipping=f.shipping,
        offers_booking=f.booking,
        offers_scan_go=f.scan_go,
        delivery_radius_m=data.delivery_radius_m,
        **data.orders.model_dump(),
    )
    store.search_text = _store_search_text(store, merchant)
    session.add(store)
    await session.flush()
    return store


async def update_store(session: AsyncSession, *, store_id: int, data: StoreUpdate) -> Store:
    """Change a store's details; a new position moves its grid cell with it."""
    store = await get_store(session, store_id=store_id)
    changes = data.model_dump(exclude_unset=True)
    for name in (
        "name",
        "name_zh",
        "address",
        "address_zh",
        "phone",
        "is_active",
        "delivery_radius_m",
    ):
        if changes.get(name) is not None:
            setattr(store, name, changes[name])
    if "category" in changes:
        store.category_id = await _category_id(session, data.category)
    if data.opening_hours is not None:
        store.opening_hours = hours.validate_week(data.opening_hours)
    if data.hours_exceptions is not None:
        store.hours_exceptions = hours.validate_exceptions(data.hours_exceptions)
    if data.fulfilment is not None:
        f = data.fulfilment
        store.offers_pickup, store.offers_reserve = f.pickup, f.reserve
        store.offers_delivery, store.offers_shipping = f.delivery, f.shipping
        store.offers_booking, store.offers_scan_go = f.booking, f.scan_go
    if data.orders is not None:
        for name, value in data.orders.model_dump().items():
            setattr(store, name, value)
    if data.lat is not None or data.lng is not None:
        region = await regions_service.get_region(session, region_id=store.region_id)
        lat = data.lat if data.lat is not None else store.lat
        lng = data.lng if data.lng is not None else store.lng
        if not (
            region.min_lat <= lat <= region.max_lat and region.min_lng <= lng <= region.max_lng
        ):
            raise InvalidInput(f"The position lies outside {region.name}'s bounds.", field="lat")
        store.lat, store.lng, store.cell = lat, lng, cell_of(lat, lng)
    store.search_text = _store_search_text(
        store, await get_merchant(session, merchant_id=store.merchant_id)
    )
    await session.flush()
    return store


async def stores_belong_to(
    session: AsyncSession, *, merchant_id: int, store_ids: list[int]
) -> None:
    """Refuse store ids that are not the merchant's (for store-scoped staff)."""
    if not store_ids:
        return
    found = set(
        await session.scalars(
            select(Store.id).where(Store.id.in_(store_ids), Store.merchant_id == merchant_id)
        )
    )
    if missing := sorted(set(store_ids) - found):
        raise InvalidInput(f"Store {missing[0]} is not one of this merchant's.", field="store_ids")


async def set_merchant_status(
    session: AsyncSession, *, merchant_id: int, status: MerchantStatus
) -> Merchant:
    merchant = await get_merchant(session, merchant_id=merchant_id)
    merchant.status = status
    await session.flush()
    return merchant


MAX_COMMISSION_BPS = 10_000  # all of the sale


async def set_commission(
    session: AsyncSession, *, merchant_id: int, commission_bps: int | None
) -> Merchant:
    """Set the merchant's commission rate in basis points (None: the platform's default).
    Applies to sales paid from now on; what the ledger already charged stays as it was."""
    if commission_bps is not None and not 0 <= commission_bps <= MAX_COMMISSION_BPS:
        raise InvalidCommission(
            f"A commission rate is 0 to {MAX_COMMISSION_BPS} basis points (0% to 100%).",
            field="commission_bps",
        )
    merchant = await get_merchant(session, merchant_id=merchant_id)
    merchant.commission_bps = commission_bps
    await session.flush()
    return merchant


async def shipping_stores(session: AsyncSession, *, merchant_id: int) -> list[Store]:
    """The merchant's active stores and warehouses that ship."""
    return list(
        await session.scalars(
            select(Store)
            .where(
                Store.merchant_id == merchant_id,
                Store.is_active.is_(True),
                Store.offers_shipping.is_(True),
            )
            .order_by(Store.id)
        )
    )
