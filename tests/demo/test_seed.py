"""The demo seed is complete, deterministic, and its logins work."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog.models import Variant
from o2o.delivery.models import Courier
from o2o.demo.merchants import MERCHANTS
from o2o.demo.riders import (
    RIDERS_PER_CITY,
    hands_on_stores,
    rider_email,
    riders,
    simulated_staff,
)
from o2o.demo.seed import DEMO_LOGINS, DEMO_PASSWORD, seed_demo
from o2o.demo.simulation import HANDS_ON
from o2o.inventory.models import StockLevel, StockMovement
from o2o.merchants.models import Store


async def test_demo_city_is_seeded_and_usable(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    result = await seed_demo(session, seed=7)
    await session.commit()
    assert result.regions == 2
    assert result.merchants == 8
    assert 300 <= result.stores <= 500
    assert await session.scalar(select(func.count(Store.id))) == result.stores
    assert await session.scalar(select(func.count(StockLevel.id))) == result.stock_rows
    assert result.stock_rows > 10_000
    # The ledger explains every unit on hand.
    on_hand = await session.scalar(select(func.sum(StockLevel.on_hand)))
    moved = await session.scalar(select(func.sum(StockMovement.qty_delta)))
    assert on_hand == moved
    sized = await session.scalar(
        select(func.count(Variant.id)).where(Variant.attributes["size"].as_string() == "M")
    )
    assert sized is not None
    assert sized > 10

    # The simulated fleet: riders in both cities, near delivering stores, none loginable.
    assert result.riders == 2 * RIDERS_PER_CITY
    seeded = (await session.execute(select(Courier.region_id, func.count()).group_by(
        Courier.region_id))).all()  # fmt: skip
    assert sorted(n for _, n in seeded) == [RIDERS_PER_CITY, RIDERS_PER_CITY]
    found = await riders(session)
    assert len(found) == 2 * RIDERS_PER_CITY
    assert len({c.vehicle for c in await session.scalars(select(Courier))}) >= 3
    assert "courier@demo.o2o" not in {r.email for r in found}
    refused = await client.post(
        "/api/v1/auth/token", json={"login": rider_email(1), "password": DEMO_PASSWORD}
    )
    assert refused.status_code == 401
    staff = await simulated_staff(session)
    assert len(staff) == sum(m.delivery for m in MERCHANTS)
    assert len(await hands_on_stores(session, emails=HANDS_ON)) == 2

    for email, _name, _what in DEMO_LOGINS:
        r = await client.post(
            "/api/v1/auth/token", json={"login": email, "password": DEMO_PASSWORD}
        )
        assert r.status_code == 200, email
    token = (
        await client.post(
            "/api/v1/auth/token", json={"login": "clerk@demo.o2o", "password": DEMO_PASSWORD}
        )
    ).json()["access_token"]
    me = (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
    assert me["memberships"][0]["role"] == "clerk"
    assert len(me["memberships"][0]["store_ids"]) == 2

    shanghai = next(
        r for r in (await client.get("/api/v1/regions")).json() if r["code"] == "shanghai"
    )
    near = await client.get(
        "/api/v1/stores/nearby",
        params={
            "lat": shanghai["center"]["lat"],
            "lng": shanghai["center"]["lng"],
            "radius_m": 3000,
        },
    )
    assert len(near.json()["items"]) == 20
    jacket = (await client.get("/api/v1/products", params={"q": "羽绒服"})).json()["items"][0]
    avail = await client.get(
        f"/api/v1/products/{jacket['id']}/availability",
        params={"lat": shanghai["center"]["lat"], "lng": shanghai["center"]["lng"]},
    )
    assert any(v["available"] > 0 for s in avail.json()["stores"] for v in s["stock"])


async def test_same_seed_same_data(session: AsyncSession) -> None:
    first = await seed_demo(session, seed=11)
    positions = (
        await session.execute(select(Store.name, Store.lat, Store.lng).order_by(Store.id))
    ).all()
    homes = [(r.email, r.home) for r in await riders(session)]
    await session.rollback()
    second = await seed_demo(session, seed=11)
    again = (
        await session.execute(select(Store.name, Store.lat, Store.lng).order_by(Store.id))
    ).all()
    homes_again = [(r.email, r.home) for r in await riders(session)]
    assert first.stores == second.stores
    assert positions == again
    assert homes == homes_again
