"""Factories: build domain objects through the services, with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts import service as accounts_service
from o2o.accounts.models import MemberRole, TokenKind, User
from o2o.catalog import service as catalog_service
from o2o.catalog.models import Product
from o2o.catalog.schemas import ProductCreate, VariantCreate
from o2o.inventory import service as inventory_service
from o2o.inventory.models import MovementKind
from o2o.merchants import service as merchants_service
from o2o.merchants.models import Merchant, Store
from o2o.merchants.schemas import Fulfilment, StoreCreate
from o2o.regions import service as regions_service
from o2o.regions.models import Region
from o2o.regions.schemas import Bounds, LatLng, RegionCreate

_seq = itertools.count(1)

ALL_DAY = [[[0, 1440]] for _ in range(7)]


async def make_region(session: AsyncSession, **overrides: Any) -> Region:
    n = next(_seq)
    data: dict[str, Any] = {
        "code": f"city-{n}",
        "name": f"City {n}",
        "name_zh": f"城市{n}",
        "timezone": "Asia/Shanghai",
        "center": LatLng(lat=31.23, lng=121.47),
        "bounds": Bounds(min_lat=-89.9, min_lng=-179.9, max_lat=89.9, max_lng=179.9),
    }
    data.update(overrides)
    return await regions_service.create_region(session, data=RegionCreate(**data))


async def make_merchant(session: AsyncSession, **overrides: Any) -> Merchant:
    n = next(_seq)
    data: dict[str, Any] = {"name": f"Merchant {n}", "name_zh": f"商户{n}"}
    data.update(overrides)
    return await merchants_service.create_merchant(session, **data)


async def make_store(
    session: AsyncSession, *, merchant: Merchant, region: Region, **overrides: Any
) -> Store:
    n = next(_seq)
    data: dict[str, Any] = {
        "region": region.code,
        "name": f"Store {n}",
        "name_zh": f"门店{n}",
        "lat": region.center_lat,
        "lng": region.center_lng,
        "opening_hours": ALL_DAY,
        "fulfilment": Fulfilment(pickup=True, reserve=True, delivery=True),
    }
    data.update(overrides)
    return await merchants_service.create_store(
        session, merchant_id=merchant.id, data=StoreCreate(**data)
    )


async def make_user(
    session: AsyncSession, *, password: str = "correct-horse-9", **overrides: Any
) -> User:
    n = next(_seq)
    data: dict[str, Any] = {"email": f"user{n}@example.test", "display_name": f"User {n}"}
    data.update(overrides)
    return await accounts_service.register(session, password=password, **data)


async def token_for(session: AsyncSession, user: User) -> dict[str, str]:
    """Authorization headers carrying a fresh API token of the user."""
    token, _ = await accounts_service.issue_token(
        session, user_id=user.id, kind=TokenKind.API, ttl=timedelta(hours=1)
    )
    return {"Authorization": f"Bearer {token}"}


async def make_staff(
    session: AsyncSession,
    *,
    merchant: Merchant,
    role: MemberRole,
    store_ids: list[int] | None = None,
) -> tuple[User, dict[str, str]]:
    user = await make_user(session)
    await accounts_service.add_membership(
        session, user_id=user.id, merchant_id=merchant.id, role=role, store_ids=store_ids
    )
    return user, await token_for(session, user)


async def make_product(
    session: AsyncSession,
    *,
    merchant: Merchant,
    sizes: tuple[str, ...] = ("S", "M", "L"),
    colors: tuple[str, ...] = ("Navy",),
    price: int = 19900,
    **overrides: Any,
) -> Product:
    n = next(_seq)
    data: dict[str, Any] = {
        "title": f"Jacket {n}",
        "title_zh": f"夹克{n}",
        "variants": [
            VariantCreate(
                sku=f"SKU-{n}-{color}-{size}",
                barcode=f"69{n:06d}{i:04d}",
                attributes={"size": size, "color": color},
                price=price,
            )
            for i, (color, size) in enumerate((c, s) for c in colors for s in sizes)
        ],
    }
    data.update(overrides)
    return await catalog_service.create_product(
        session, merchant_id=merchant.id, data=ProductCreate(**data)
    )


async def stock(session: AsyncSession, *, store: Store, variant_id: int, qty: int) -> None:
    await inventory_service.set_on_hand(
        session, store=store, variant_id=variant_id, on_hand=qty, kind=MovementKind.RESTOCK
    )
