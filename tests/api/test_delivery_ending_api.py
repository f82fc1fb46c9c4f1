"""A delivery order that ends before a courier picked it up ends its delivery with it, through
every path that ends such an order: the store's rejection, the shopper's cancellation (API and
page), the timer sweeping due orders, and the dispatch round catching one a path left open.
Dispatch never offers it again, and a courier who held it is freed and told."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.broker import Broker
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.delivery import assign, ending
from o2o.delivery.models import Courier, Delivery
from o2o.notifications import service as notifications_service
from o2o.orders.models import Order, OrderStatus
from o2o.orders.policy import OrderPolicy
from o2o.worker.relay import Relay
from tests.delivery.live_scene import (
    address,
    dispatch_round,
    make_courier,
    on_shift_at,
    paid_delivery,
    staff_moves,
)
from tests.factories import make_user, token_for
from tests.orders.scene import OrderScene, make_scene, place
from tests.web.conftest import csrf_of, log_in


async def _delivery(session: AsyncSession, order_id: int) -> Delivery | None:
    return await session.scalar(
        select(Delivery)
        .where(Delivery.order_id == order_id)
        .execution_options(populate_existing=True)
    )


async def _open_count(session: AsyncSession, user_id: int) -> int:
    courier = await session.get(Courier, user_id, populate_existing=True)
    assert courier is not None
    return courier.open_count


async def _board(client: httpx.AsyncClient, session: AsyncSession, region_id: int) -> Any:
    admin = await token_for(session, await make_user(session, is_platform_admin=True))
    await session.commit()
    got = await client.get(f"/api/v1/admin/regions/{region_id}/dispatch-board", headers=admin)
    assert got.status_code == 200, got.text
    return got.json()


async def _reject(client: httpx.AsyncClient, scene: OrderScene, order_id: int) -> None:
    no = await client.post(
        f"/api/v1/stores/{scene.store.id}/orders/{order_id}/transitions",
        json={"to": "rejected", "reason": "out of bags"},
        headers=scene.clerk_headers,
    )
    assert no.status_code == 200, no.text


async def _cancel(client: httpx.AsyncClient, scene: OrderScene, order_id: int) -> None:
    gone = await client.post(
        f"/api/v1/orders/{order_id}/cancel", json={"reason": "changed my mind"},
        headers=scene.shopper_headers,
    )  # fmt: skip
    assert gone.status_code == 200, gone.text
    assert gone.json()["status"] == "cancelled"


async def _held_by(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> tuple[OrderScene, Any, dict[str, Any], int]:
    """A paid delivery order that the only courier on shift holds."""
    scene = await make_scene(session)
    courier = await make_courier(session)
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    order = await paid_delivery(client, app, scene)
    found = await _delivery(session, order["id"])
    assert found is not None
    assert await assign.claim(
        session, courier_id=courier.user.id, delivery_ids=[found.id], now=utcnow()
    )
    await session.commit()
    found = await _delivery(session, order["id"])
    assert found is not None
    assert found.courier_id == courier.user.id
    assert await _open_count(session, courier.user.id) == 1
    return scene, courier, order, found.id


async def _assert_freed_and_told(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    *,
    courier: Any,
    order: dict[str, Any],
    delivery_id: int,
) -> None:
    found = await _delivery(session, order["id"])
    assert found is not None
    assert found.status == "cancelled"
    assert found.courier_id is None
    assert found.cancelled_at is not None
    assert await _open_count(session, courier.user.id) == 0
    me = await client.get("/api/v1/couriers/me", headers=courier.headers)
    assert me.json()["tasks"] == []
    # The courier can no longer act on it.
    up = await client.post(
        f"/api/v1/couriers/me/deliveries/{delivery_id}/pickup", headers=courier.headers
    )
    assert up.status_code == 404
    assert up.json()["code"] == "delivery_not_found"
    # Told: a notification it reads in its bell, and live news once committed.
    told = await client.get("/api/v1/me/notifications", headers=courier.headers)
    kinds = [(n["kind"], n["data"]["order_id"]) for n in told.json()["items"]]
    assert ("delivery.cancelled", order["id"]) in kinds


async def _live_news(app: FastAPI, courier_id: int) -> dict[str, Any]:
    broker: Broker = app.state.broker
    relay: Relay = app.state.relay
    async with broker.subscribe(notifications_service.channel(courier_id)) as messages:
        await relay.drain()
        message: dict[str, Any] = await asyncio.wait_for(anext(messages), 2)
    return message


async def test_a_rejected_order_ends_its_waiting_delivery_and_dispatch_skips_it(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    order = await paid_delivery(client, app, scene)
    waiting = await _delivery(session, order["id"])
    assert waiting is not None
    assert waiting.status == "requested"
    await _reject(client, scene, order["id"])
    found = await _delivery(session, order["id"])
    assert found is not None
    assert found.status == "cancelled"
    assert found.reason == "the store rejected the order"
    # A courier on shift beside the store gets nothing: dispatch never offers it again.
    courier = await make_courier(session)
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    done = await dispatch_round(database)
    assert done.assigned == 0
    assert (await _board(client, session, scene.region.id))["deliveries"] == []
    # An operator cannot hand it out either.
    admin = await token_for(session, await make_user(session, is_platform_admin=True))
    await session.commit()
    moved = await client.post(
        f"/api/v1/admin/deliveries/{found.id}/reassign",
        json={"courier_id": courier.user.id}, headers=admin,
    )  # fmt: skip
    assert moved.status_code == 409
    assert moved.json()["code"] == "delivery_cancelled"


async def test_rejecting_an_accepted_order_frees_the_courier_holding_it(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene, courier, order, did = await _held_by(app, client, session, database)
    accepted = await client.post(
        f"/api/v1/couriers/me/deliveries/{did}/accept", headers=courier.headers
    )
    assert accepted.status_code == 200
    await staff_moves(client, scene, order["id"], "accepted")
    await _reject(client, scene, order["id"])
    await _assert_freed_and_told(
        app, client, session, courier=courier, order=order, delivery_id=did
    )
    news = await _live_news(app, courier.user.id)
    assert news["status"] == "delivery_cancelled"
    assert news["order_id"] == order["id"]
    assert (await dispatch_round(database)).assigned == 0


async def test_the_shoppers_cancellation_frees_the_courier_holding_it(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene, courier, order, did = await _held_by(app, client, session, database)
    await _cancel(client, scene, order["id"])
    await _assert_freed_and_told(
        app, client, session, courier=courier, order=order, delivery_id=did
    )
    found = await _delivery(session, order["id"])
    assert found is not None
    assert found.reason == "the order was cancelled"
    assert (await dispatch_round(database)).assigned == 0
    assert (await _board(client, session, scene.region.id))["deliveries"] == []


async def test_a_late_request_for_an_ended_order_makes_no_delivery(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Paid, then rejected or cancelled before the worker handled the delivery request (its
    row not made yet): the late request makes none."""
    scene = await make_scene(session)
    rejected = await paid_delivery(client, app, scene)
    cancelled = await paid_delivery(client, app, scene)
    for order in (rejected, cancelled):
        await session.execute(delete(Delivery).where(Delivery.order_id == order["id"]))
    await session.commit()
    await _reject(client, scene, rejected["id"])
    await _cancel(client, scene, cancelled["id"])
    for order in (rejected, cancelled):
        assert await assign.request_delivery(session, order_id=order["id"], now=utcnow()) is None
        assert await _delivery(session, order["id"]) is None


async def test_the_sweeper_ends_the_delivery_of_an_order_it_expires(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The timer expires unpaid orders; a delivery order only gets a delivery once paid, so
    the one it expires has none, and any it had would end with it."""
    scene = await make_scene(session)
    placed = await place(client, scene, fulfilment="delivery", address=address(scene.store, 1200))
    order_id = placed.json()["id"]
    await session.execute(
        update(Order).where(Order.id == order_id).values(hold_until=utcnow() - timedelta(minutes=1))
    )
    await session.commit()
    providers = app.state.payment_providers
    assert await ending.expire(
        session, order_id=order_id, policy=OrderPolicy(), providers=providers
    )
    await session.commit()
    order = await session.get(Order, order_id, populate_existing=True)
    assert order is not None
    assert order.status == OrderStatus.EXPIRED
    assert await _delivery(session, order_id) is None
    assert not await ending.expire(
        session, order_id=order_id, policy=OrderPolicy(), providers=providers
    )


async def test_the_round_ends_a_delivery_left_open_by_an_order_ended_elsewhere(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    """An order closed by a path that did not end its delivery (or before this existed): the
    next round cancels the delivery and frees its courier instead of offering it again."""
    scene, courier, order, did = await _held_by(app, client, session, database)
    waiting = await paid_delivery(client, app, scene, north_m=900)
    for order_id in (order["id"], waiting["id"]):
        await session.execute(
            update(Order).where(Order.id == order_id).values(status=OrderStatus.CANCELLED)
        )
    await session.commit()
    done = await dispatch_round(database)
    assert done.assigned == 0
    for order_id in (order["id"], waiting["id"]):
        found = await _delivery(session, order_id)
        assert found is not None
        assert found.status == "cancelled"
        assert found.courier_id is None
    assert await _open_count(session, courier.user.id) == 0
    assert (await dispatch_round(database)).assigned == 0
    del did


async def test_cancelling_on_the_order_page_frees_the_courier_too(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    _scene, courier, order, did = await _held_by(app, client, session, database)
    client.cookies.clear()
    await log_in(client, _scene.shopper.email)
    page = await client.get(f"/orders/{order['id']}")
    assert page.status_code == 200
    gone = await client.post(
        f"/orders/{order['id']}/cancel", data={"csrf_token": csrf_of(page.text)}
    )
    assert gone.status_code == 303, gone.text
    client.cookies.clear()
    await _assert_freed_and_told(
        app, client, session, courier=courier, order=order, delivery_id=did
    )
