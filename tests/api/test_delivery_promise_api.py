"""The delivery promise through HTTP: under load the quote lengthens with the distance, and
an address beyond today's reach is refused with its own code and creates nothing."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.merchants import service as merchants_service
from o2o.merchants.models import Store
from o2o.merchants.schemas import StoreUpdate
from o2o.orders.models import Order
from o2o.orders.promise import DeliveryOutlook
from tests.inventory.scene import level_of
from tests.orders.scene import make_scene, place

METRES_PER_DEGREE_LAT = 111_195.0


async def _busy(session: AsyncSession, *, store: Store, now: datetime) -> DeliveryOutlook:
    """A fleet that gets a courier to the store in 21 minutes: reach (30 − 21 − 2) × 250 m."""
    del session, now
    return DeliveryOutlook(
        promise_minutes=store.delivery_minutes,
        radius_m=store.delivery_radius_m,
        lead_minutes=21,
        speed_m_per_min=250,
        service_minutes=2,
    )


def _address(store: Store, north_m: float) -> dict[str, object]:
    return {"text": "home", "lat": store.lat + north_m / METRES_PER_DEGREE_LAT, "lng": store.lng}


async def test_a_busy_fleet_shrinks_the_area_and_quotes_by_distance(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app.state.order_policy = dataclasses.replace(app.state.order_policy, delivery_outlook=_busy)
    scene = await make_scene(session)
    variant = scene.variants[1]
    lines = [{"variant_id": variant.id, "qty": 1}]

    quote = await client.post(
        "/api/v1/orders/quote",
        json={"store_id": scene.store.id, "lines": lines, "address": _address(scene.store, 2000)},
        headers=scene.shopper_headers,
    )
    assert quote.status_code == 200, quote.text
    (far,) = [o for o in quote.json()["options"] if o["fulfilment"] == "delivery"]
    assert far["available"] is False
    assert far["reason"] == "delivery_area_reduced"

    refused = await place(client, scene, fulfilment="delivery", address=_address(scene.store, 2000))
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["code"] == "delivery_area_reduced"
    assert problem["radius_m"] == 1750
    assert await session.scalar(select(func.count()).select_from(Order)) == 0
    assert await level_of(session, scene.store, variant.id) == (10, 0)

    near = await place(client, scene, fulfilment="delivery", address=_address(scene.store, 1000))
    assert near.status_code == 201, near.text
    order = near.json()
    placed_at = datetime.fromisoformat(order["created_at"])
    promised = datetime.fromisoformat(order["promised_at"])
    # 21 + 4 + 2 = 27 minutes, quoted as 30.
    assert (promised - placed_at).total_seconds() == 30 * 60


async def test_without_a_fleet_the_store_keeps_its_flat_promise(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    placed = await place(client, scene, fulfilment="delivery", address=_address(scene.store, 2900))
    assert placed.status_code == 201, placed.text
    order = placed.json()
    minutes = (
        datetime.fromisoformat(order["promised_at"]) - datetime.fromisoformat(order["created_at"])
    ).total_seconds() / 60
    assert minutes == scene.store.delivery_minutes


async def test_a_closed_store_refuses_delivery_and_says_when_it_opens(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
    await merchants_service.update_store(
        session, store_id=scene.store.id, data=StoreUpdate(hours_exceptions={today.isoformat(): []})
    )
    await session.commit()
    refused = await place(client, scene, fulfilment="delivery", address=_address(scene.store, 500))
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["code"] == "store_closed"
    tomorrow = datetime.combine(today + timedelta(days=1), time(0), ZoneInfo("Asia/Shanghai"))
    assert datetime.fromisoformat(problem["opens_at"]) == tomorrow
    assert await session.scalar(select(func.count()).select_from(Order)) == 0
    # Pickup later stays possible.
    later = await place(client, scene, fulfilment="pickup")
    assert later.status_code == 201, later.text
