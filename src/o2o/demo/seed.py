"""Seed the demo: two cities, merchants of every kind, a few hundred stores, demo logins.

Deterministic: the same seed gives the same data. ``progress(step, advance)`` is called as work
is done so the CLI can draw a progress bar.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts import service as accounts_service
from o2o.accounts.models import MemberRole
from o2o.demo.catalog import seed_catalog
from o2o.demo.cities import CITIES, City
from o2o.demo.merchants import CATEGORIES, MERCHANTS, DemoMerchant
from o2o.demo.riders import RIDERS_PER_CITY, seed_riders, seed_staff
from o2o.merchants import service as merchants_service
from o2o.merchants.schemas import Fulfilment, StoreCreate
from o2o.regions import service as regions_service
from o2o.regions.models import Region
from o2o.regions.schemas import Bounds, LatLng, RegionCreate

DEMO_PASSWORD = "demo-pass-1"
DEMO_LOGINS = (
    ("shopper@demo.o2o", "Demo Shopper", "shopper"),
    ("owner@demo.o2o", "Demo Owner", "owner of Urban Threads"),
    ("clerk@demo.o2o", "Demo Clerk", "clerk at two Urban Threads stores in Shanghai"),
    ("courier@demo.o2o", "Demo Courier", "courier"),
    ("admin@demo.o2o", "Demo Admin", "platform admin"),
)

Progress = Callable[[str, int], None]


@dataclass
class SeedResult:
    regions: int = 0
    merchants: int = 0
    stores: int = 0
    stock_rows: int = 0
    riders: int = 0
    store_ids: dict[str, list[int]] = field(default_factory=dict)  # merchant key -> store ids


def total_steps() -> int:
    return (
        len(CATEGORIES)
        + sum(m.stores_per_city for m in MERCHANTS) * len(CITIES)
        + len(MERCHANTS)  # catalogues
        + len(DEMO_LOGINS)
        + len(CITIES)  # riders
    )


async def is_seeded(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(func.count(Region.id))))


def _position(rnd: random.Random, city: City) -> tuple[float, float, int]:
    weights = [d.weight for d in city.districts]
    index = rnd.choices(range(len(city.districts)), weights=weights)[0]
    d = city.districts[index]
    km_lat = 1 / 111.32
    km_lng = 1 / (111.32 * math.cos(math.radians(d.lat)))
    lat = d.lat + rnd.gauss(0, d.sigma_km) * km_lat
    lng = d.lng + rnd.gauss(0, d.sigma_km) * km_lng
    return round(lat, 6), round(lng, 6), index


def _week(m: DemoMerchant, rnd: random.Random) -> list[list[list[int]]]:
    open_, close = m.hours
    shift = rnd.choice((0, 0, 30, -30))
    weekday = [[open_ + shift, close]]
    weekend = [[open_ + shift - 30 if open_ + shift >= 30 else open_, close]]
    return [weekday] * 5 + [weekend] * 2


async def seed_demo(
    session: AsyncSession, *, seed: int = 2026, progress: Progress | None = None
) -> SeedResult:
    """Create the demo data in the session (the caller commits)."""
    tick = progress or (lambda _step, _n: None)
    rnd = random.Random(seed)
    result = SeedResult()
    for code, name, name_zh, parent in CATEGORIES:
        await merchants_service.create_category(
            session, code=code, name=name, name_zh=name_zh, parent_code=parent
        )
        tick("categories", 1)
    regions = []
    for city in CITIES:
        b = city.bounds
        regions.append(
            await regions_service.create_region(
                session,
                data=RegionCreate(
                    code=city.code,
                    name=city.name,
                    name_zh=city.name_zh,
                    timezone=city.timezone,
                    center=LatLng(lat=city.center[0], lng=city.center[1]),
                    bounds=Bounds(min_lat=b[0], min_lng=b[1], max_lat=b[2], max_lng=b[3]),
                ),
            )
        )
    result.regions = len(regions)
    for m in MERCHANTS:
        merchant = await merchants_service.create_merchant(
            session, name=m.name, name_zh=m.name_zh, category=m.category
        )
        result.merchants += 1
        ids: list[int] = []
        for city in CITIES:
            branch_no: dict[int, int] = {}
            for _ in range(m.stores_per_city):
                lat, lng, d_index = _position(rnd, city)
                district = city.districts[d_index]
                n = branch_no[d_index] = branch_no.get(d_index, 0) + 1
                street, street_zh = rnd.choice(city.streets)
                number = rnd.randint(1, 1800)
                suffix = f" {n}" if n > 1 else ""
                store = await merchants_service.create_store(
                    session,
                    merchant_id=merchant.id,
                    data=StoreCreate(
                        region=city.code,
                        name=f"{m.name} {district.name}{suffix}",
                        name_zh=f"{m.name_zh}（{district.name_zh}{'' if n == 1 else f'{n}号'}店）",
                        address=f"{number} {street}, {district.name}, {city.name}",
                        address_zh=f"{city.name_zh}{district.name_zh}{street_zh}{number}号",
                        phone=f"+86 21 {rnd.randint(5000_0000, 6999_9999)}",
                        lat=lat,
                        lng=lng,
                        opening_hours=_week(m, rnd),
                        fulfilment=Fulfilment(
                            pickup=m.pickup,
                            reserve=m.reserve,
                            delivery=m.delivery,
                            shipping=m.shipping,
                            booking=m.booking,
                            scan_go=m.scan_go,
                        ),
                        delivery_radius_m=m.delivery_radius_m,
                    ),
                )
                store.rating_count = rnd.randint(3, 900)
                store.rating_sum = round(store.rating_count * rnd.uniform(3.6, 4.9))
                ids.append(store.id)
                result.stores += 1
                tick("stores", 1)
        result.store_ids[m.key] = ids
        result.stock_rows += await seed_catalog(
            session, rnd=rnd, merchant_id=merchant.id, key=m.key, store_ids=ids
        )
        tick("catalog", 1)
    await _seed_users(session, result, tick)
    await _seed_simulated(session, result, [r.id for r in regions], seed=seed, tick=tick)
    await session.flush()
    return result


async def _seed_simulated(session: AsyncSession, result: SeedResult, region_ids: list[int],
                          *, seed: int, tick: Progress) -> None:  # fmt: skip
    """The simulated fleet and store staff (``o2o.demo.fleet`` plays them). The demo
    clerk's two stores are left to the person playing the clerk."""
    for m in MERCHANTS:
        ids = result.store_ids[m.key]
        if m.delivery:
            first = await merchants_service.get_store(session, store_id=ids[0])
            mine = ids[2:] if m.key == "threads" else ids
            await seed_staff(session, merchant_id=first.merchant_id, key=m.key, name=m.name,
                             store_ids=mine)  # fmt: skip
    for i, region_id in enumerate(region_ids):
        result.riders += await seed_riders(
            session, region_ids=[region_id], seed=seed, first=1 + i * RIDERS_PER_CITY
        )
        tick("riders", 1)


async def _seed_users(session: AsyncSession, result: SeedResult, tick: Progress) -> None:
    threads = result.store_ids["threads"]
    merchant_id = (await merchants_service.get_store(session, store_id=threads[0])).merchant_id
    for email, name, _what in DEMO_LOGINS:
        user = await accounts_service.register(
            session,
            email=email,
            password=DEMO_PASSWORD,
            display_name=name,
            is_platform_admin=email.startswith("admin@"),
            is_courier=email.startswith("courier@"),
        )
        if email.startswith("owner@"):
            await accounts_service.add_membership(
                session, user_id=user.id, merchant_id=merchant_id, role=MemberRole.OWNER
            )
        if email.startswith("clerk@"):
            await accounts_service.add_membership(
                session,
                user_id=user.id,
                merchant_id=merchant_id,
                role=MemberRole.CLERK,
                store_ids=threads[:2],
            )
        tick("accounts", 1)
