"""The lean positions path says exactly what the general one would: the same trail, the same
last position, the same tracking answer on each carried order's channel."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.delivery import ingest, ingest_pg, positions, summary
from o2o.delivery.models import Courier, CourierPosition
from o2o.delivery.policy import CourierPolicy
from o2o.orders.channels import order_channel, region_channel
from tests.delivery.live_scene import (
    dispatch_round,
    make_courier,
    on_shift_at,
    paid_delivery,
    staff_moves,
)
from tests.orders.scene import make_scene

METRES_PER_DEGREE_LAT = 111_195.0


async def test_lean_ingest_matches_the_general_tracking_answer(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session, phone="13800005678")
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id, north_m=200)
    orders = [await paid_delivery(client, app, scene, north_m=600 + 100 * i) for i in range(2)]
    for order in orders:
        await staff_moves(client, scene, order["id"], "accepted", "ready")
    assert (await dispatch_round(database)).assigned == 2

    now = utcnow()
    lat = scene.store.lat + 400 / METRES_PER_DEGREE_LAT
    fixes = [
        positions.Fix(lat - 0.0005, scene.store.lng, now - timedelta(seconds=2)),
        positions.Fix(lat, scene.store.lng, now - timedelta(seconds=1)),
    ]
    done = await ingest.ingest(
        session, courier_id=courier.user.id, fixes=fixes, policy=CourierPolicy(), now=now
    )
    assert done.recorded.moved
    assert sorted(done.recorded.order_ids) == sorted(o["id"] for o in orders)
    assert done.recorded.courier.last_lat == lat
    general = await summary.position_news(session, done=done.recorded, now=now)
    assert done.news == general
    assert len(done.news) == 3  # each follower's answer, and one for the region's board
    (first_channel, first), _, (board_channel, board) = done.news
    assert board_channel == region_channel(scene.region.id)
    assert board == {
        "type": "courier",
        "courier_id": courier.user.id,
        "lat": lat,
        "lng": scene.store.lng,
        "at": fixes[1].at.isoformat(),
        "open_count": 2,
    }
    assert first_channel == order_channel(orders[0]["id"])
    assert first["courier"]["phone"] == "138****5678"  # type: ignore[index]
    assert first["delivery_code"] is None  # the stream never carries the code
    trail = await session.scalar(
        select(func.count())
        .select_from(CourierPosition)
        .where(CourierPosition.courier_id == courier.user.id)
    )
    assert trail == 2

    # An older batch joins the trail but neither moves the courier nor tells anyone.
    late = await ingest.ingest(
        session,
        courier_id=courier.user.id,
        fixes=[positions.Fix(lat + 0.01, scene.store.lng, now - timedelta(seconds=30))],
        policy=CourierPolicy(),
        now=now,
    )
    assert (late.recorded.moved, late.news) == (False, [])
    assert late.recorded.courier.last_lat == lat


async def test_the_one_statement_path_says_what_the_general_one_does(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    backend: str,
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session, phone="13800005678")
    idle = await make_courier(session)
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id, north_m=200)
    orders = [await paid_delivery(client, app, scene, north_m=600 + 100 * i) for i in range(2)]
    for order in orders:
        await staff_moves(client, scene, order["id"], "accepted", "ready")
    assert (await dispatch_round(database)).assigned == 2
    now = utcnow()
    lat = scene.store.lat + 400 / METRES_PER_DEGREE_LAT
    fixes = [positions.Fix(lat, scene.store.lng, now - timedelta(seconds=1))]
    if backend == "sqlite":
        assert not ingest_pg.applies(session)
        return
    fast = await ingest_pg.ingest_once(
        session, courier_id=courier.user.id, fixes=fixes, policy=CourierPolicy(), now=now
    )
    assert fast is not None
    assert fast.recorded.moved
    assert sorted(fast.recorded.order_ids) == sorted(o["id"] for o in orders)
    general = await summary.position_news(session, done=fast.recorded, now=now)
    assert fast.news == general
    stored = await session.get(Courier, courier.user.id, populate_existing=True)
    assert stored is not None
    assert (stored.last_lat, stored.last_seen_at) == (lat, fixes[0].at)
    trail = await session.scalar(
        select(func.count())
        .select_from(CourierPosition)
        .where(CourierPosition.courier_id == courier.user.id)
    )
    assert trail == 1
    # Older: kept in the trail, the courier stays, nobody is told.
    late = await ingest_pg.ingest_once(
        session,
        courier_id=courier.user.id,
        fixes=[positions.Fix(lat + 0.01, scene.store.lng, now - timedelta(seconds=40))],
        policy=CourierPolicy(),
        now=now,
    )
    assert late is not None
    assert (late.recorded.moved, late.news, late.recorded.courier.last_lat) == (False, [], lat)
    # A courier off shift (or without a profile) is left to the general path, unchanged.
    assert (
        await ingest_pg.ingest_once(
            session, courier_id=idle.user.id, fixes=fixes, policy=CourierPolicy(), now=now
        )
        is None
    )
