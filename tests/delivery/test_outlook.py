"""Checkout's delivery outlook from the live fleet: free couriers keep the promise, a queue of
waiting deliveries shrinks the area, stale or far couriers do not count."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.delivery.outlook import load_near
from o2o.delivery.policy import CourierPolicy
from tests.delivery.live_scene import address, make_courier, on_shift_at, paid_delivery
from tests.orders.scene import make_scene, place


async def _quote(client: httpx.AsyncClient, scene: object, north_m: float) -> dict[str, object]:
    store = scene.store  # type: ignore[attr-defined]
    variant = scene.variants[1]  # type: ignore[attr-defined]
    response = await client.post(
        "/api/v1/orders/quote",
        json={
            "store_id": store.id,
            "lines": [{"variant_id": variant.id, "qty": 1}],
            "address": address(store, north_m),
        },
        headers=scene.shopper_headers,  # type: ignore[attr-defined]
    )
    assert response.status_code == 200, response.text
    (option,) = [o for o in response.json()["options"] if o["fulfilment"] == "delivery"]
    return dict(option)


async def test_free_couriers_keep_the_promise_and_a_queue_shrinks_the_area(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    riders = [await make_courier(session) for _ in range(2)]
    for rider in riders:
        await on_shift_at(client, rider, scene.store, region_id=scene.region.id, north_m=1000)

    load = await load_near(session, store=scene.store, now=utcnow(), policy=CourierPolicy())
    assert (load.waiting, load.free, load.on_shift) == (0, 2, 2)
    assert load.approach_m == pytest.approx(1000, abs=2)
    assert load.trip_minutes == 25.0  # no trip made yet in the region
    calm = await _quote(client, scene, 2900)
    assert calm["available"] is True, calm

    # Deliveries pile up for the two couriers (e-bikes, 252 m/min, trips of 25 min): the third
    # waiting one puts a new order 2nd in the queue, 2 × 25 / (2 × 1.3) + 4 min from a
    # courier, 27.2 min before it leaves the store: only 0.8 min × 252 m are left.
    for _ in range(3):
        await paid_delivery(client, app, scene, north_m=800)
    load = await load_near(session, store=scene.store, now=utcnow(), policy=CourierPolicy())
    assert (load.waiting, load.free) == (3, 2)
    busy = await _quote(client, scene, 800)
    assert busy["available"] is False
    assert busy["reason"] == "delivery_area_reduced"
    refused = await place(client, scene, fulfilment="delivery", address=address(scene.store, 800))
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "delivery_area_reduced"
    assert refused.json()["radius_m"] == pytest.approx(201, abs=2)
    next_door = await place(client, scene, fulfilment="delivery", address=address(scene.store, 150))
    assert next_door.status_code == 201, next_door.text
    # Pickup is unaffected.
    assert (await place(client, scene, fulfilment="pickup")).status_code == 201


async def test_stale_and_far_couriers_do_not_count(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    near, far = await make_courier(session), await make_courier(session)
    await on_shift_at(client, near, scene.store, region_id=scene.region.id, north_m=500)
    await on_shift_at(client, far, scene.store, region_id=scene.region.id, north_m=9000)
    load = await load_near(session, store=scene.store, now=utcnow(), policy=CourierPolicy())
    assert (load.free, load.on_shift) == (1, 1)
    # Two minutes later with a stale time of one, nobody counts: the store's flat promise.
    later = utcnow().replace(microsecond=0)
    quiet = CourierPolicy(stale_seconds=1)
    load = await load_near(
        session, store=scene.store, now=later.replace(year=later.year + 1), policy=quiet
    )
    assert (load.free, load.on_shift) == (0, 0)
