"""Couriers through HTTP: a delivery order is requested, dispatched, picked up, tracked and
handed over with the shopper's code; every refusal has its own code and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.delivery.models import Courier, CourierPosition, Delivery
from o2o.redemption.models import CodeKind, RedemptionCode
from tests.delivery.live_scene import (
    dispatch_round,
    fix,
    make_courier,
    on_shift_at,
    paid_delivery,
    staff_moves,
)
from tests.orders.scene import make_scene

ME = "/api/v1/couriers/me"


def task_url(delivery_id: int, step: str) -> str:
    return f"{ME}/deliveries/{delivery_id}/{step}"


async def test_a_delivery_from_payment_to_the_door(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session, phone="13812345678")
    order = await paid_delivery(client, app, scene)
    delivery = await session.scalar(select(Delivery).where(Delivery.order_id == order["id"]))
    assert delivery is not None
    assert delivery.status == "requested"
    code = await session.scalar(
        select(RedemptionCode).where(
            RedemptionCode.subject == f"order:{order['id']}",
            RedemptionCode.kind == CodeKind.DELIVERY,
        )
    )
    assert code is not None

    await on_shift_at(client, courier, scene.store, region_id=scene.region.id, north_m=300)
    # Not ready yet (30 minutes of preparation ahead): the round waits.
    first = await dispatch_round(database)
    assert (first.assigned, first.postponed) == (0, 1)
    await staff_moves(client, scene, order["id"], "accepted", "ready")
    second = await dispatch_round(database)
    assert second.assigned == 1

    me = (await client.get(ME, headers=courier.headers)).json()
    (task,) = me["tasks"]
    assert (task["order_id"], task["status"], task["accepted"]) == (order["id"], "assigned", False)
    assert task["navigate_url"].startswith("https://www.openstreetmap.org/directions")
    did = task["delivery_id"]

    shopper_view = await client.get(
        f"/api/v1/orders/{order['id']}/tracking", headers=scene.shopper_headers
    )
    assert shopper_view.status_code == 200, shopper_view.text
    seen = shopper_view.json()
    assert seen["delivery_status"] == "assigned"
    assert seen["courier"]["phone"] == "138****5678"
    assert seen["position"]["lat"] == pytest.approx(scene.store.lat + 300 / 111_195.0)
    assert seen["eta_seconds"] > 0
    assert seen["delivery_code"].replace("-", "") == code.code
    store_view = (
        await client.get(f"/api/v1/orders/{order['id']}/tracking", headers=scene.clerk_headers)
    ).json()
    assert store_view["delivery_code"] is None
    assert store_view["courier"]["name"] == courier.user.display_name

    accepted = await client.post(task_url(did, "accept"), headers=courier.headers)
    assert accepted.json()["tasks"][0]["accepted"] is True
    picked = await client.post(task_url(did, "pickup"), headers=courier.headers)
    assert picked.status_code == 200, picked.text
    shopper_order = await client.get(f"/api/v1/orders/{order['id']}", headers=scene.shopper_headers)
    assert shopper_order.json()["status"] == "out_for_delivery"

    moved = await client.post(
        f"{ME}/positions", json={"positions": [fix(scene.store, north_m=900)]},
        headers=courier.headers,
    )  # fmt: skip
    assert moved.json() == {"accepted": 1, "moved": True, "stale": False}
    trail = await session.scalar(select(func.count()).select_from(CourierPosition))
    assert trail == 1

    wrong = await client.post(
        task_url(did, "deliver"), json={"code": "0000-0000-0"}, headers=courier.headers
    )
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "wrong_delivery_code"
    done = await client.post(
        task_url(did, "deliver"), json={"code": code.code.lower()}, headers=courier.headers
    )
    assert done.status_code == 200, done.text
    after = done.json()
    assert after["tasks"] == []
    assert after["earnings_today"]["deliveries"] == 1
    assert after["earnings_today"]["per_delivery"] == 500
    final = await client.get(f"/api/v1/orders/{order['id']}", headers=scene.shopper_headers)
    assert final.json()["status"] == "delivered"
    # The trail is gone, and the shopper no longer sees where the courier is.
    assert await session.scalar(select(func.count()).select_from(CourierPosition)) == 0
    gone = (
        await client.get(f"/api/v1/orders/{order['id']}/tracking", headers=scene.shopper_headers)
    ).json()
    assert (gone["delivery_status"], gone["position"], gone["courier"]) == ("delivered", None, None)
    again = await client.post(
        task_url(did, "deliver"), json={"code": code.code}, headers=courier.headers
    )
    assert again.status_code == 409
    assert again.json()["code"] == "delivery_changed"


async def test_only_couriers_use_the_courier_api(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    for method, url, body in [
        ("GET", ME, None),
        ("POST", f"{ME}/shift", {"on": True}),
        ("POST", f"{ME}/positions", {"positions": [fix(scene.store)]}),
        ("POST", task_url(1, "accept"), None),
        ("POST", task_url(1, "deliver"), {"code": "ABCD"}),
    ]:
        refused = await client.request(method, url, json=body, headers=scene.shopper_headers)
        assert refused.status_code == 403, url
        assert refused.json()["code"] == "not_a_courier"
        assert refused.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"lat": 91.0}, 422, "position_out_of_range"),
        ({"lng": -180.5}, 422, "position_out_of_range"),
        ({"at_shift_s": 120}, 422, "position_in_future"),
        ({"at_shift_s": -3600}, 422, "position_too_old"),
    ],
)
async def test_bad_positions_are_refused_and_do_not_move_the_courier(
    client: httpx.AsyncClient,
    session: AsyncSession,
    change: dict[str, float],
    status: int,
    code: str,
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session)
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    before = await session.get(Courier, courier.user.id, populate_existing=True)
    assert before is not None
    was = (before.last_lat, before.last_lng, before.last_seen_at)
    good = fix(scene.store, north_m=50)
    shift = timedelta(seconds=change.get("at_shift_s", -1))
    bad = fix(scene.store, north_m=80, at=utcnow() + shift)
    bad.update({k: v for k, v in change.items() if k in ("lat", "lng")})
    refused = await client.post(
        f"{ME}/positions", json={"positions": [good, bad]}, headers=courier.headers
    )
    assert refused.status_code == status, refused.text
    problem = refused.json()
    assert problem["code"] == code
    assert problem["field"].startswith("positions[1]")
    after = await session.get(Courier, courier.user.id, populate_existing=True)
    assert after is not None
    assert (after.last_lat, after.last_lng, after.last_seen_at) == was


async def test_positions_need_a_shift_and_silence_makes_a_courier_stale(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session)
    off = await client.post(
        f"{ME}/positions", json={"positions": [fix(scene.store)]}, headers=courier.headers
    )
    assert off.status_code == 409
    assert off.json()["code"] == "courier_not_on_shift"
    me = (await client.get(ME, headers=courier.headers)).json()
    assert (me["on_shift"], me["last_position"], me["stale"]) == (False, None, True)
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    me = (await client.get(ME, headers=courier.headers)).json()
    assert (me["on_shift"], me["stale"]) == (True, False)
    old = await client.post(
        f"{ME}/positions", json={"positions": [fix(scene.store, north_m=10, ago_s=300)]},
        headers=courier.headers,
    )  # fmt: skip
    # Older than the last one: kept for the trail, but the courier stays where it was seen last.
    assert old.json() == {"accepted": 1, "moved": False, "stale": False}
    empty = await client.post(f"{ME}/positions", json={"positions": []}, headers=courier.headers)
    assert empty.status_code == 422
    off_shift = await client.post(f"{ME}/shift", json={"on": False}, headers=courier.headers)
    assert off_shift.json()["on_shift"] is False
