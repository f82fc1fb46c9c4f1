"""The operator's dispatch board through HTTP: who may see it, what it shows after a delivery
order is paid and couriers go on shift, its live stream, and manual reassignment with each
of its refusals."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.broker import Broker
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.delivery import assign
from o2o.delivery.models import MAX_OPEN, Courier, Delivery
from o2o.orders.channels import region_channel
from o2o.orders.models import Order, OrderStatus
from tests.api.test_notifications import AsgiStream
from tests.delivery.live_scene import (
    dispatch_round,
    fix,
    make_courier,
    on_shift_at,
    paid_delivery,
    staff_moves,
)
from tests.factories import make_region, make_user, token_for
from tests.orders.scene import OrderScene, make_scene


def board_url(region_id: int) -> str:
    return f"/api/v1/admin/regions/{region_id}/dispatch-board"


def reassign_url(delivery_id: int) -> str:
    return f"/api/v1/admin/deliveries/{delivery_id}/reassign"


async def _admin(session: AsyncSession) -> dict[str, str]:
    headers = await token_for(session, await make_user(session, is_platform_admin=True))
    await session.commit()
    return headers


async def _delivery(session: AsyncSession, order_id: int) -> Delivery:
    found = await session.scalar(
        select(Delivery)
        .where(Delivery.order_id == order_id)
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


async def _open_count(session: AsyncSession, user_id: int) -> int:
    courier = await session.get(Courier, user_id, populate_existing=True)
    assert courier is not None
    return courier.open_count


async def _board(client: httpx.AsyncClient, scene: OrderScene, admin: dict[str, str]) -> Any:
    got = await client.get(board_url(scene.region.id), headers=admin)
    assert got.status_code == 200, got.text
    return got.json()


async def test_only_admins_see_the_board_and_unknown_regions_are_404(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    region = await make_region(session)
    someone = await token_for(session, await make_user(session))
    courier = await make_courier(session)
    admin = await _admin(session)
    for headers in (someone, courier.headers):
        refused = await client.get(board_url(region.id), headers=headers)
        assert refused.status_code == 403
        assert refused.json()["code"] == "not_allowed"
        stream = await client.get(board_url(region.id) + "/stream", headers=headers)
        assert stream.status_code == 403
        moved = await client.post(reassign_url(1), json={"courier_id": 1}, headers=headers)
        assert moved.status_code == 403
    assert (await client.get(board_url(region.id))).status_code == 401
    unknown = await client.get(board_url(987654321), headers=admin)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "region_not_found"
    assert (await client.get(board_url(987654321) + "/stream", headers=admin)).status_code == 404
    empty = await client.get(board_url(region.id), headers=admin)
    assert empty.status_code == 200
    assert empty.json()["couriers"] == []
    assert empty.json()["deliveries"] == []


async def test_the_board_shows_couriers_and_open_deliveries_with_lateness(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    admin = await _admin(session)
    near = await make_courier(session, display_name="Near Rider")
    off = await make_courier(session)
    await on_shift_at(client, near, scene.store, region_id=scene.region.id, north_m=300)
    order = await paid_delivery(client, app, scene)

    seen = await _board(client, scene, admin)
    assert seen["region_id"] == scene.region.id
    assert seen["bundle_limit"] == MAX_OPEN
    # Only couriers on shift: the one who never went on shift is not on the board.
    assert [c["courier_id"] for c in seen["couriers"]] == [near.user.id]
    rider = seen["couriers"][0]
    assert rider["name"] == "Near Rider"
    assert rider["vehicle"] == "ebike"
    assert rider["state"] == "idle"
    assert rider["stale"] is False
    assert rider["open_count"] == 0
    assert rider["room"] == MAX_OPEN
    assert rider["position"]["lat"] > scene.store.lat
    assert 0 <= rider["position_age_seconds"] < 120
    (row,) = seen["deliveries"]
    assert row["order_id"] == order["id"]
    assert row["status"] == "requested"
    assert row["courier_id"] is None
    assert row["store_id"] == scene.store.id
    assert row["store"]["lat"] == scene.store.lat
    assert row["dropoff"]["lat"] > scene.store.lat
    assert row["promised_at"] is not None
    assert row["placed_at"] is not None
    assert row["ready"] is False  # the store has not marked it ready
    assert row["lateness"] == "on_time"
    assert row["minutes_late"] < 0
    assert row["projected_minutes_late"] < 0
    assert off.user.id not in [c["courier_id"] for c in seen["couriers"]]

    # Given to the courier, the row follows it, and the courier is busy with it.
    did = row["delivery_id"]
    moved = await client.post(reassign_url(did), json={"courier_id": near.user.id}, headers=admin)
    assert moved.status_code == 200, moved.text
    seen = await _board(client, scene, admin)
    assert seen["deliveries"][0]["courier_id"] == near.user.id
    assert seen["deliveries"][0]["courier_name"] == "Near Rider"
    assert seen["deliveries"][0]["status"] == "assigned"
    assert seen["couriers"][0]["state"] == "busy"
    assert seen["couriers"][0]["delivery_ids"] == [did]

    # Past its promise it is late, by about as many minutes; a silent courier is stale.
    await session.execute(
        update(Order)
        .where(Order.id == order["id"])
        .values(promised_at=utcnow() - timedelta(minutes=7))
    )
    await session.execute(
        update(Courier)
        .where(Courier.user_id == near.user.id)
        .values(last_seen_at=utcnow() - timedelta(minutes=10))
    )
    await session.commit()
    seen = await _board(client, scene, admin)
    late = seen["deliveries"][0]
    assert late["lateness"] == "late"
    assert 6.5 < late["minutes_late"] < 8
    assert seen["couriers"][0]["stale"] is True
    assert seen["couriers"][0]["state"] == "stale"

    # Delivered, it leaves the board.
    await staff_moves(client, scene, order["id"], "accepted", "ready")
    await client.post(f"/api/v1/couriers/me/deliveries/{did}/pickup", headers=near.headers)
    code = await client.get(f"/api/v1/orders/{order['id']}/tracking", headers=scene.shopper_headers)
    handed = await client.post(
        f"/api/v1/couriers/me/deliveries/{did}/deliver",
        json={"code": code.json()["delivery_code"]},
        headers=near.headers,
    )
    assert handed.status_code == 200, handed.text
    seen = await _board(client, scene, admin)
    assert seen["deliveries"] == []
    assert seen["couriers"][0]["open_count"] == 0


async def test_the_board_sorts_the_most_late_first(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    admin = await _admin(session)
    orders = [await paid_delivery(client, app, scene) for _ in range(4)]
    # Ready at the store, 1.2 km from the door: about 11 minutes from now at the earliest.
    now = utcnow()
    for order, minutes in zip(orders, (20, 14, 2, -3), strict=True):
        await staff_moves(client, scene, order["id"], "accepted", "ready")
        await session.execute(
            update(Order)
            .where(Order.id == order["id"])
            .values(promised_at=now + timedelta(minutes=minutes))
        )
    await session.commit()
    rows = (await _board(client, scene, admin))["deliveries"]
    assert [r["order_id"] for r in rows] == [o["id"] for o in reversed(orders)]
    assert [r["lateness"] for r in rows] == ["late", "late", "at_risk", "on_time"]
    assert rows[0]["minutes_late"] > 2.5  # late already
    assert rows[1]["minutes_late"] < 0 < rows[1]["projected_minutes_late"]  # going to be
    assert all(r["ready"] for r in rows)


async def _two_couriers(
    client: httpx.AsyncClient, scene: OrderScene, session: AsyncSession
) -> tuple[Any, Any]:
    a = await make_courier(session)
    b = await make_courier(session)
    for courier in (a, b):
        await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    return a, b


async def test_reassignment_moves_the_delivery_and_the_holds(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    admin = await _admin(session)
    a, b = await _two_couriers(client, scene, session)
    order = await paid_delivery(client, app, scene)
    did = (await _delivery(session, order["id"])).id
    assert await assign.claim(session, courier_id=a.user.id, delivery_ids=[did], now=utcnow())
    await session.commit()
    accepted = await client.post(f"/api/v1/couriers/me/deliveries/{did}/accept", headers=a.headers)
    assert accepted.status_code == 200

    moved = await client.post(reassign_url(did), json={"courier_id": b.user.id}, headers=admin)
    assert moved.status_code == 200, moved.text
    assert moved.json() == {
        "delivery_id": did,
        "order_id": order["id"],
        "status": "assigned",
        "courier_id": b.user.id,
        "previous_courier_id": a.user.id,
    }
    delivery = await _delivery(session, order["id"])
    assert delivery.courier_id == b.user.id
    assert delivery.accepted_at is None  # an offer to accept, as dispatch gives one
    assert await _open_count(session, a.user.id) == 0
    assert await _open_count(session, b.user.id) == 1
    # The new courier sees it as a task; the old one can no longer act on it.
    mine = await client.get("/api/v1/couriers/me", headers=b.headers)
    assert [t["delivery_id"] for t in mine.json()["tasks"]] == [did]
    assert mine.json()["tasks"][0]["accepted"] is False
    theirs = await client.post(f"/api/v1/couriers/me/deliveries/{did}/pickup", headers=a.headers)
    assert theirs.status_code == 404
    # Asking again for the same courier changes nothing.
    again = await client.post(reassign_url(did), json={"courier_id": b.user.id}, headers=admin)
    assert again.status_code == 200
    assert again.json()["previous_courier_id"] is None
    assert await _open_count(session, b.user.id) == 1


async def test_each_refusal_of_a_reassignment(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    admin = await _admin(session)
    a, b = await _two_couriers(client, scene, session)
    idle = await make_courier(session)
    elsewhere = await make_courier(session)
    other_region = await make_region(session)
    await on_shift_at(client, elsewhere, scene.store, region_id=other_region.id)
    orders = [await paid_delivery(client, app, scene) for _ in range(MAX_OPEN + 1)]
    ids = [(await _delivery(session, o["id"])).id for o in orders]

    async def refused(delivery_id: int, courier_id: int, status: int, code: str) -> None:
        got = await client.post(
            reassign_url(delivery_id), json={"courier_id": courier_id}, headers=admin
        )
        assert got.status_code == status, got.text
        assert got.headers["content-type"].startswith("application/problem+json")
        assert got.json()["code"] == code

    await refused(987654321, b.user.id, 404, "delivery_not_found")
    await refused(ids[0], 987654321, 404, "courier_not_found")
    await refused(ids[0], idle.user.id, 404, "courier_not_found")  # never a courier profile
    await client.get("/api/v1/couriers/me", headers=idle.headers)  # now it has one, off shift
    await refused(ids[0], idle.user.id, 409, "courier_off_shift")
    await refused(ids[0], elsewhere.user.id, 409, "courier_in_other_region")
    bad = await client.post(reassign_url(ids[0]), json={"courier_id": 0}, headers=admin)
    assert bad.status_code == 422
    # The bundle limit: b takes MAX_OPEN, the next one is refused and nothing moves.
    for did in ids[:MAX_OPEN]:
        ok = await client.post(reassign_url(did), json={"courier_id": b.user.id}, headers=admin)
        assert ok.status_code == 200, ok.text
    await refused(ids[MAX_OPEN], b.user.id, 409, "courier_at_bundle_limit")
    assert await _open_count(session, b.user.id) == MAX_OPEN
    assert (await _delivery(session, orders[MAX_OPEN]["id"])).status == "requested"

    # Picked up: only its courier goes on with it.
    picked = orders[0]
    await staff_moves(client, scene, picked["id"], "accepted", "ready")
    up = await client.post(f"/api/v1/couriers/me/deliveries/{ids[0]}/pickup", headers=b.headers)
    assert up.status_code == 200, up.text
    await refused(ids[0], a.user.id, 409, "delivery_already_picked_up")
    # Delivered.
    code = await client.get(
        f"/api/v1/orders/{picked['id']}/tracking", headers=scene.shopper_headers
    )
    done = await client.post(
        f"/api/v1/couriers/me/deliveries/{ids[0]}/deliver",
        json={"code": code.json()["delivery_code"]},
        headers=b.headers,
    )
    assert done.status_code == 200, done.text
    await refused(ids[0], a.user.id, 409, "delivery_already_delivered")
    # Cancelled: the shopper's order was cancelled before anyone picked it up.
    cancelled = orders[1]
    await session.execute(
        update(Order).where(Order.id == cancelled["id"]).values(status=OrderStatus.CANCELLED)
    )
    await session.commit()
    await refused(ids[1], a.user.id, 409, "delivery_cancelled")
    assert await _open_count(session, a.user.id) == 0


async def test_the_stream_hears_positions_and_reassignments(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    admin = await _admin(session)
    a, b = await _two_couriers(client, scene, session)
    order = await paid_delivery(client, app, scene)
    did = (await _delivery(session, order["id"])).id
    broker: Broker = app.state.broker
    heard: list[dict[str, Any]] = []
    async with broker.subscribe(region_channel(scene.region.id)) as messages:

        async def take(n: int) -> None:
            async for message in messages:
                heard.append(message)
                if len(heard) >= n:
                    return

        sent = await client.post(
            "/api/v1/couriers/me/positions",
            json={"positions": [fix(scene.store, north_m=50, ago_s=2), fix(scene.store, ago_s=1)]},
            headers=a.headers,
        )
        assert sent.status_code == 200
        moved = await client.post(reassign_url(did), json={"courier_id": a.user.id}, headers=admin)
        assert moved.status_code == 200
        await asyncio.wait_for(take(2), 5)
    courier, change = heard
    # One message for the whole batch of two, with its newest position.
    assert courier["type"] == "courier"
    assert courier["courier_id"] == a.user.id
    assert courier["lat"] == scene.store.lat
    assert change == {
        "type": "change",
        "what": "delivery",
        "delivery_id": did,
        "order_id": order["id"],
        "status": "assigned",
        "courier_id": a.user.id,
    }
    del b


async def test_the_stream_endpoint_sends_board_events(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    admin = await _admin(session)
    (a, _b) = await _two_couriers(client, scene, session)
    order = await paid_delivery(client, app, scene)
    did = (await _delivery(session, order["id"])).id
    stream = AsgiStream(app, board_url(scene.region.id) + "/stream", admin)
    try:
        start = await stream.next()
        assert start["status"] == 200
        assert dict(start["headers"])[b"content-type"].startswith(b"text/event-stream")
        assert await stream.text() == ": connected\n\n"
        moved = await client.post(reassign_url(did), json={"courier_id": a.user.id}, headers=admin)
        assert moved.status_code == 200
        frame = await stream.text()
        assert frame.startswith("event: board\ndata: ")
        data = json.loads(frame.split("data: ", 1)[1])
        assert data["type"] == "change"
        assert data["delivery_id"] == did
        assert data["courier_id"] == a.user.id
    finally:
        await stream.close()


async def test_sending_a_held_delivery_back_to_dispatch(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    admin = await _admin(session)
    a, b = await _two_couriers(client, scene, session)
    order = await paid_delivery(client, app, scene)
    await staff_moves(client, scene, order["id"], "accepted", "ready")
    did = (await _delivery(session, order["id"])).id
    given = await client.post(reassign_url(did), json={"courier_id": a.user.id}, headers=admin)
    assert given.status_code == 200, given.text
    accepted = await client.post(f"/api/v1/couriers/me/deliveries/{did}/accept", headers=a.headers)
    assert accepted.status_code == 200

    back = await client.post(reassign_url(did), json={"courier_id": None}, headers=admin)
    assert back.status_code == 200, back.text
    assert back.json() == {
        "delivery_id": did,
        "order_id": order["id"],
        "status": "requested",
        "courier_id": None,
        "previous_courier_id": a.user.id,
    }
    delivery = await _delivery(session, order["id"])
    assert delivery.status == "requested"
    assert delivery.courier_id is None
    assert delivery.assigned_at is None
    assert delivery.accepted_at is None
    assert await _open_count(session, a.user.id) == 0
    # The courier lost the task and can no longer act on it.
    mine = await client.get("/api/v1/couriers/me", headers=a.headers)
    assert mine.json()["tasks"] == []
    theirs = await client.post(f"/api/v1/couriers/me/deliveries/{did}/pickup", headers=a.headers)
    assert theirs.status_code == 404
    # On the board it waits for a courier again.
    row = (await _board(client, scene, admin))["deliveries"][0]
    assert (row["status"], row["courier_id"]) == ("requested", None)
    # Asking again changes nothing.
    again = await client.post(reassign_url(did), json={"courier_id": None}, headers=admin)
    assert again.status_code == 200
    assert again.json()["previous_courier_id"] is None
    # The next round may assign it again (the goods are ready, couriers beside the store).
    done = await dispatch_round(database)
    assert done.assigned == 1
    delivery = await _delivery(session, order["id"])
    assert delivery.status == "assigned"
    assert delivery.courier_id in (a.user.id, b.user.id)
    holder = a if delivery.courier_id == a.user.id else b
    assert await _open_count(session, holder.user.id) == 1

    # Once picked up it cannot go back: a 409 with a stable code, and nothing moves.
    up = await client.post(f"/api/v1/couriers/me/deliveries/{did}/pickup", headers=holder.headers)
    assert up.status_code == 200, up.text
    late = await client.post(reassign_url(did), json={"courier_id": None}, headers=admin)
    assert late.status_code == 409
    assert late.headers["content-type"].startswith("application/problem+json")
    assert late.json()["code"] == "delivery_already_picked_up"
    delivery = await _delivery(session, order["id"])
    assert (delivery.status, delivery.courier_id) == ("picked_up", holder.user.id)
    assert await _open_count(session, holder.user.id) == 1


async def test_each_refusal_of_sending_back(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    admin = await _admin(session)
    a, _b = await _two_couriers(client, scene, session)
    orders = [await paid_delivery(client, app, scene) for _ in range(2)]
    ids = [(await _delivery(session, o["id"])).id for o in orders]

    async def refused(body: dict[str, Any], delivery_id: int, status: int, code: str) -> None:
        got = await client.post(reassign_url(delivery_id), json=body, headers=admin)
        assert got.status_code == status, got.text
        assert got.headers["content-type"].startswith("application/problem+json")
        assert got.json()["code"] == code

    await refused({"courier_id": None}, 987654321, 404, "delivery_not_found")
    bad = await client.post(reassign_url(ids[0]), json={}, headers=admin)
    assert bad.status_code == 422  # the courier (or null) must be said
    bad = await client.post(reassign_url(ids[0]), json={"courier_id": "x"}, headers=admin)
    assert bad.status_code == 422
    # The store's own staff carry it: no courier to take it from, none to give it to.
    assert await assign.claim(session, courier_id=a.user.id, delivery_ids=[ids[0]], now=utcnow())
    await session.commit()
    await staff_moves(client, scene, orders[0]["id"], "accepted", "ready")
    out = await client.post(
        f"/api/v1/stores/{scene.store.id}/orders/{orders[0]['id']}/transitions",
        json={"to": "out_for_delivery", "own_staff": True},
        headers=scene.clerk_headers,
    )
    assert out.status_code == 200, out.text
    await refused({"courier_id": None}, ids[0], 409, "delivery_by_store")
    await refused({"courier_id": a.user.id}, ids[0], 409, "delivery_by_store")
    # Cancelled with its order.
    gone = await client.post(
        f"/api/v1/orders/{orders[1]['id']}/cancel", json={}, headers=scene.shopper_headers
    )
    assert gone.status_code == 200, gone.text
    await refused({"courier_id": None}, ids[1], 409, "delivery_cancelled")
    assert await _open_count(session, a.user.id) == 0
