"""Factories: build domain objects through the services, with sensible defaults."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

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
