"""The demo's simulated staff and couriers carry a paid delivery order to the door by
themselves: ticks are driven directly with a clock that runs as fast as the test needs."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.broker import Broker
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.delivery import couriers, rounds
from o2o.delivery.models import CourierPosition, Delivery, DeliveryStatus
from o2o.delivery.policy import CourierPolicy
from o2o.demo.fleet import Fleet
from o2o.demo.motion import Point, metres, offset
from o2o.demo.riders import Rider
from o2o.demo.staff import StoreStaff
from o2o.orders.channels import order_channel
from o2o.orders.models import Order, OrderEvent, OrderStatus
from o2o.worker.relay import Relay
from tests.delivery.live_scene import paid_delivery
from tests.factories import make_user
from tests.orders.scene import OrderScene, make_scene

POLICY = CourierPolicy()
SPEEDUP = 30.0


async def _riders(session: AsyncSession, scene: OrderScene, n: int) -> list[Rider]:
    found = []
    for i in range(n):
        user = await make_user(session, is_courier=True)
        home = offset(Point(scene.store.lat, scene.store.lng), north_m=-800 - 500 * i, east_m=300)
        courier = await couriers.profile(session, user_id=user.id, region_id=scene.region.id)
        courier.last_lat, courier.last_lng = home.lat, home.lng
        found.append(Rider(user.id, user.email, home))
    await session.commit()
    return found


async def _order(session: AsyncSession, order_id: int) -> Order:
    order = await session.get(Order, order_id, populate_existing=True)
    assert order is not None
    return order


async def test_the_fleet_and_the_staff_deliver_a_paid_order_by_themselves(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    found = await _riders(session, scene, 2)
    order = await paid_delivery(client, app, scene, north_m=1500)
    relay: Relay = app.state.relay
    broker: Broker = app.state.broker
    fleet = Fleet.of(found, db=database, broker=broker, policy=POLICY, speedup=SPEEDUP)
    for sim in fleet.riders:
        sim.plan.start_s = 0.0  # on shift at the first tick
    staff = StoreStaff(database, app.state.payment_providers, {scene.merchant.id: scene.clerk.id},
                       speedup=SPEEDUP)  # fmt: skip
    heard: list[dict[str, Any]] = []
    trail_seen = 0
    now = utcnow()

    async def listen() -> None:
        async with broker.subscribe(order_channel(order["id"])) as messages:
            async for message in messages:
                heard.append(message)

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    try:
        for tick in range(400):
            now += timedelta(seconds=2)
            await staff.tick(now)
            await fleet.tick(now)
            if tick % 5 == 0:
                await rounds.run_round(database, policy=POLICY, now=now)
            await relay.drain()
            trail_seen = max(
                trail_seen, int(await session.scalar(select(func.count(CourierPosition.id))) or 0)
            )
            if (await _order(session, order["id"])).status == OrderStatus.DELIVERED:
                break
        await asyncio.sleep(0.05)
    finally:
        listener.cancel()
    done = await _order(session, order["id"])
    assert done.status == OrderStatus.DELIVERED
    delivery = await session.scalar(
        select(Delivery)
        .where(Delivery.order_id == order["id"])
        .execution_options(populate_existing=True)
    )
    assert delivery is not None
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.courier_id in {r.user_id for r in found}
    assert delivery.accepted_at is not None
    assert delivery.picked_up_at is not None
    # The staff steps, then the courier's: in order, each by who did it.
    steps = (
        await session.execute(
            select(OrderEvent.status, OrderEvent.actor_user_id)
            .where(OrderEvent.order_id == order["id"])
            .order_by(OrderEvent.id)
        )
    ).all()
    assert [s for s, _ in steps][-5:] == [
        OrderStatus.ACCEPTED, OrderStatus.PREPARING, OrderStatus.READY,
        OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERED,
    ]  # fmt: skip
    assert [a for _, a in steps][-5:-2] == [scene.clerk.id] * 3
    assert [a for _, a in steps][-2:] == [delivery.courier_id] * 2
    # Ready after the sped-up preparation time (30 min / 30), not before.
    assert done.ready_at is not None
    assert done.paid_at is not None
    assert done.ready_at - done.paid_at >= timedelta(minutes=scene.store.prep_minutes / SPEEDUP)
    # The trail was kept during the trip and forgotten after it; trackers heard every leg.
    assert trail_seen > 3
    assert await session.scalar(select(func.count(CourierPosition.id))) == 0
    tracked = [m for m in heard if m.get("type") == "tracking"]
    assert {m["delivery_status"] for m in tracked} >= {"assigned", "picked_up"}
    assert all(m["delivery_code"] is None for m in tracked)
    carried = [m["position"] for m in tracked if m["delivery_status"] == "picked_up"]
    assert len(carried) > 2
    door = offset(Point(scene.store.lat, scene.store.lng), north_m=1500, east_m=0)
    assert metres(Point(carried[-1]["lat"], carried[-1]["lng"]), door) < 1.0  # at the door
    courier = await couriers.profile(session, user_id=delivery.courier_id)
    await session.refresh(courier)
    assert courier.open_count == 0
    assert courier.on_shift is True


async def test_hands_on_stores_are_left_to_their_person(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    order = await paid_delivery(client, app, scene)
    staff = StoreStaff(database, app.state.payment_providers, {scene.merchant.id: scene.clerk.id},
                       hands_on={scene.store.id}, speedup=SPEEDUP)  # fmt: skip
    assert await staff.tick(utcnow() + timedelta(hours=1)) == 0
    assert (await _order(session, order["id"])).status == OrderStatus.PAID
    staff.hands_on = set()
    later = utcnow() + timedelta(hours=1)
    assert [await staff.tick(later) for _ in range(4)] == [1, 1, 1, 0]
    assert (await _order(session, order["id"])).status == OrderStatus.READY


async def test_a_broken_rider_does_not_stop_the_others(
    app: FastAPI, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    good = (await _riders(session, scene, 1))[0]
    ghost = Rider(good.user_id, "ghost@demo.o2o", Point(95.0, 0.0))  # an impossible position
    fleet = Fleet.of([ghost, good], db=database, broker=app.state.broker, policy=POLICY)
    for sim in fleet.riders:
        sim.plan.start_s = 0.0
    now = utcnow()
    await fleet.tick(now)
    fleet.riders[0].here = Point(95.0, 0.0)
    await fleet.tick(now + timedelta(seconds=2))  # the ghost's report is refused: logged
    courier = await couriers.profile(session, user_id=good.user_id)
    await session.refresh(courier)
    assert courier.on_shift is True
    assert courier.last_seen_at is not None
