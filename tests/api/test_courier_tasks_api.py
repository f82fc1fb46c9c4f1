"""The courier's steps and their refusals through HTTP, the return of a failed delivery, the
release of what a silent courier holds, and live tracking on the broker."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.broker import Broker
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.delivery import assign
from o2o.delivery.models import Courier, Delivery
from o2o.delivery.policy import CourierPolicy
from o2o.orders.channels import order_channel
from o2o.redemption.models import CodeKind, RedemptionCode
from tests.delivery.live_scene import (
    dispatch_round,
    fix,
    make_courier,
    on_shift_at,
    paid_delivery,
    staff_moves,
)
from tests.factories import make_user, token_for
from tests.orders.scene import make_scene, pay, place

ME = "/api/v1/couriers/me"


def task_url(delivery_id: int, step: str) -> str:
    return f"{ME}/deliveries/{delivery_id}/{step}"


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


async def test_refusals_of_the_task_steps(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session)
    other = await make_courier(session)
    order = await paid_delivery(client, app, scene)
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    await staff_moves(client, scene, order["id"], "accepted")
    # Accepted, preparing: the store estimates 30 minutes, beyond the round's horizon.
    assert (await dispatch_round(database)).assigned == 0
    # Claimed directly, as a round would once the goods are nearly ready.
    did = (await _delivery(session, order["id"])).id
    assert await assign.claim(session, courier_id=courier.user.id, delivery_ids=[did], now=utcnow())
    await session.commit()

    early = await client.post(task_url(did, "pickup"), headers=courier.headers)
    assert early.status_code == 409
    assert early.json()["code"] == "order_not_ready"
    assert (await _delivery(session, order["id"])).status == "assigned"
    for step, body in [("accept", None), ("pickup", None), ("deliver", {"code": "X"})]:
        theirs = await client.post(task_url(did, step), json=body, headers=other.headers)
        assert theirs.status_code == 404, step
        assert theirs.json()["code"] == "delivery_not_found"
    unknown = await client.post(task_url(987654, "accept"), headers=courier.headers)
    assert unknown.status_code == 404
    not_out = await client.post(task_url(did, "fail"), json={}, headers=courier.headers)
    assert not_out.status_code == 409
    assert not_out.json()["code"] == "delivery_changed"

    await staff_moves(client, scene, order["id"], "ready")
    assert (await client.post(task_url(did, "pickup"), headers=courier.headers)).status_code == 200
    twice = await client.post(task_url(did, "pickup"), headers=courier.headers)
    assert twice.status_code == 409
    leave = await client.post(f"{ME}/shift", json={"on": False}, headers=courier.headers)
    assert leave.status_code == 409
    assert leave.json()["code"] == "deliveries_in_hand"
    stranger = await make_user(session)
    stranger_headers = await token_for(session, stranger)
    await session.commit()
    for url in (
        f"/api/v1/orders/{order['id']}/tracking",
        f"/api/v1/orders/{order['id']}/tracking/stream",
    ):
        hidden = await client.get(url, headers=stranger_headers)
        assert hidden.status_code == 404
        assert hidden.json()["code"] == "order_not_found"


async def test_a_failed_delivery_goes_back_to_the_store_and_is_refunded(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session)
    order = await paid_delivery(client, app, scene)
    await staff_moves(client, scene, order["id"], "accepted", "ready")
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    assert (await dispatch_round(database)).assigned == 1
    did = (await _delivery(session, order["id"])).id
    assert (await client.post(task_url(did, "pickup"), headers=courier.headers)).status_code == 200
    failed = await client.post(
        task_url(did, "fail"), json={"reason": "nobody home"}, headers=courier.headers
    )
    assert failed.status_code == 200, failed.text
    assert failed.json()["tasks"][0]["status"] == "failed"
    back = await client.post(task_url(did, "return"), headers=courier.headers)
    assert back.status_code == 200, back.text
    assert back.json()["tasks"] == []
    assert await _open_count(session, courier.user.id) == 0
    seen = (await client.get(f"/api/v1/orders/{order['id']}", headers=scene.shopper_headers)).json()
    assert seen["status"] == "cancelled"
    assert seen["refunded"] == seen["total"]
    code = await session.scalar(
        select(RedemptionCode).where(
            RedemptionCode.subject == f"order:{order['id']}",
            RedemptionCode.kind == CodeKind.DELIVERY,
        )
    )
    assert code is not None
    assert code.status == "void"


async def test_decline_and_silence_send_the_order_back_to_dispatch(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session)
    order = await paid_delivery(client, app, scene)
    await staff_moves(client, scene, order["id"], "accepted", "ready")
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    assert (await dispatch_round(database)).assigned == 1
    did = (await _delivery(session, order["id"])).id
    declined = await client.post(task_url(did, "decline"), headers=courier.headers)
    assert declined.status_code == 200
    back = await _delivery(session, order["id"])
    assert (back.status, back.courier_id, back.declines) == ("requested", None, 1)
    assert await _open_count(session, courier.user.id) == 0

    # The only courier declined it: the order waits rather than going back to them.
    assert (await dispatch_round(database)).assigned == 0
    assert (await _delivery(session, order["id"])).status == "requested"
    # A second courier comes on shift, farther from the store: the order goes to them.
    second = await make_courier(session)
    await on_shift_at(client, second, scene.store, region_id=scene.region.id, north_m=1500)
    assert (await dispatch_round(database)).assigned == 1
    assert (await _delivery(session, order["id"])).courier_id == second.user.id
    assert (await client.get(ME, headers=courier.headers)).json()["tasks"] == []
    # The second courier falls silent: the next round takes the order back.
    await session.execute(
        update(Courier)
        .where(Courier.user_id == second.user.id)
        .values(last_seen_at=utcnow() - timedelta(minutes=10))
    )
    await session.commit()
    silent = await dispatch_round(database)
    assert (silent.released, silent.assigned) == (1, 0)
    released = await _delivery(session, order["id"])
    assert (released.status, released.courier_id) == ("requested", None)
    me = (await client.get(ME, headers=second.headers)).json()
    assert (me["stale"], me["tasks"]) == (True, [])


async def test_a_declined_order_goes_to_another_courier_not_back_to_the_same(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    # given two couriers: one beside the store, one 2 km away
    scene = await make_scene(session)
    near, far = await make_courier(session), await make_courier(session)
    order = await paid_delivery(client, app, scene)
    await staff_moves(client, scene, order["id"], "accepted", "ready")
    await on_shift_at(client, near, scene.store, region_id=scene.region.id)
    await on_shift_at(client, far, scene.store, region_id=scene.region.id, north_m=2000)
    assert (await dispatch_round(database)).assigned == 1
    did = (await _delivery(session, order["id"])).id
    assert (await _delivery(session, order["id"])).courier_id == near.user.id
    # when the near courier declines (a second decline finds it no longer theirs)
    assert (await client.post(task_url(did, "decline"), headers=near.headers)).status_code == 200
    again = await client.post(task_url(did, "decline"), headers=near.headers)
    assert again.status_code == 404
    # then every following round offers it to the far courier, never to the near one
    assert (await dispatch_round(database)).assigned == 1
    assert (await _delivery(session, order["id"])).courier_id == far.user.id
    assert (await client.get(ME, headers=near.headers)).json()["tasks"] == []
    tasks = (await client.get(ME, headers=far.headers)).json()["tasks"]
    assert [t["delivery_id"] for t in tasks] == [did]
    # and when the far one declines too, it waits for a third courier
    assert (await client.post(task_url(did, "decline"), headers=far.headers)).status_code == 200
    assert (await dispatch_round(database)).assigned == 0
    back = await _delivery(session, order["id"])
    assert (back.status, back.declines) == ("requested", 2)


async def test_the_delivery_is_requested_once_and_only_for_delivery_orders(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    order = await paid_delivery(client, app, scene)
    first = await _delivery(session, order["id"])
    again = await assign.request_delivery(session, order_id=order["id"], now=utcnow())
    assert again is not None
    assert again.id == first.id
    pickup = await place(client, scene)
    paid = await pay(client, app, scene, pickup.json()["id"])
    assert await assign.request_delivery(session, order_id=paid["id"], now=utcnow()) is None
    not_delivery = await client.get(
        f"/api/v1/orders/{paid['id']}/tracking", headers=scene.shopper_headers
    )
    assert not_delivery.status_code == 404
    assert not_delivery.json()["code"] == "not_a_delivery"


async def test_positions_reach_the_shoppers_live_channel(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session)
    order = await paid_delivery(client, app, scene)
    await staff_moves(client, scene, order["id"], "accepted", "ready")
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    assert (await dispatch_round(database)).assigned == 1
    broker: Broker = app.state.broker
    async with broker.subscribe(order_channel(order["id"])) as messages:
        sent = await client.post(
            f"{ME}/positions", json={"positions": [fix(scene.store, north_m=200)]},
            headers=courier.headers,
        )  # fmt: skip
        assert sent.status_code == 200
        message = await asyncio.wait_for(anext(messages), 1)
    assert message["type"] == "tracking"
    assert message["order_id"] == order["id"]
    assert message["delivery_status"] == "assigned"
    assert message["delivery_code"] is None
    assert message["position"]["lat"] == scene.store.lat + 200 / 111_195.0
    assert message["eta_seconds"] > 0


async def test_a_rejected_order_is_taken_back_at_once_but_a_handed_over_one_stays(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session)
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    rejected = await paid_delivery(client, app, scene)
    handed = await paid_delivery(client, app, scene, north_m=800)
    await staff_moves(client, scene, handed["id"], "accepted", "ready")
    ids = [(await _delivery(session, o["id"])).id for o in (rejected, handed)]
    assert await assign.claim(session, courier_id=courier.user.id, delivery_ids=ids, now=utcnow())
    await session.commit()
    no = await client.post(
        f"/api/v1/stores/{scene.store.id}/orders/{rejected['id']}/transitions",
        json={"to": "rejected", "reason": "out of bags"},
        headers=scene.clerk_headers,
    )
    assert no.status_code == 200, no.text
    # The rejection ended the delivery in its own transaction: the courier is free of it.
    assert (await _delivery(session, rejected["id"])).status == "cancelled"
    assert (await _delivery(session, rejected["id"])).courier_id is None
    assert await _open_count(session, courier.user.id) == 1
    await staff_moves(client, scene, handed["id"], "out_for_delivery")

    done = await dispatch_round(database)
    assert (done.released, done.assigned) == (0, 0)
    assert (await _delivery(session, rejected["id"])).status == "cancelled"
    assert (await _delivery(session, handed["id"])).courier_id == courier.user.id
    assert await _open_count(session, courier.user.id) == 1
    picked = await client.post(task_url(ids[1], "pickup"), headers=courier.headers)
    assert picked.status_code == 200, picked.text
    assert [t["status"] for t in picked.json()["tasks"]] == ["picked_up"]


async def test_an_assignment_not_accepted_in_time_goes_back(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session)
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    order = await paid_delivery(client, app, scene)
    await staff_moves(client, scene, order["id"], "accepted", "ready")
    did = (await _delivery(session, order["id"])).id
    long_ago = utcnow() - timedelta(minutes=5)
    assert await assign.claim(session, courier_id=courier.user.id, delivery_ids=[did], now=long_ago)
    await session.commit()
    done = await dispatch_round(database, CourierPolicy(accept_seconds=120))
    # Taken back, and (the only courier, beside the store) offered again at once.
    assert (done.released, done.assigned) == (1, 1)
    again = await _delivery(session, order["id"])
    assert again.assigned_at is not None
    assert again.assigned_at > long_ago
    accepted = await client.post(task_url(did, "accept"), headers=courier.headers)
    assert accepted.status_code == 200
    assert (await dispatch_round(database)).released == 0


async def test_an_order_the_store_hands_to_its_own_staff_leaves_dispatch(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    # given a courier on shift beside the store and two ready delivery orders
    scene = await make_scene(session)
    courier = await make_courier(session)
    waiting = await paid_delivery(client, app, scene)
    await staff_moves(client, scene, waiting["id"], "accepted", "ready")
    # when the store hands the first to its own staff before any round
    await staff_moves(client, scene, waiting["id"], "out_for_delivery")
    # then its delivery is over for dispatch: no courier, and no round offers it
    ended = await _delivery(session, waiting["id"])
    assert (ended.status, ended.courier_id) == ("by_store", None)
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    assert (await dispatch_round(database)).assigned == 0
    assert (await client.get(ME, headers=courier.headers)).json()["tasks"] == []

    # given the second order, offered to the courier by a round
    held = await paid_delivery(client, app, scene, north_m=900)
    await staff_moves(client, scene, held["id"], "accepted", "ready")
    assert (await dispatch_round(database)).assigned == 1
    did = (await _delivery(session, held["id"])).id
    assert await _open_count(session, courier.user.id) == 1
    # when the store says its own staff carry it after all
    moved = await client.post(
        f"/api/v1/stores/{scene.store.id}/orders/{held['id']}/transitions",
        json={"to": "out_for_delivery", "own_staff": True},
        headers=scene.clerk_headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "out_for_delivery"
    # then the courier is freed of it and can no longer move it, and no round offers it
    taken = await _delivery(session, held["id"])
    assert (taken.status, taken.courier_id) == ("by_store", None)
    assert await _open_count(session, courier.user.id) == 0
    assert (await client.get(ME, headers=courier.headers)).json()["tasks"] == []
    gone = await client.post(task_url(did, "pickup"), headers=courier.headers)
    assert (gone.status_code, gone.json()["code"]) == (404, "delivery_not_found")
    assert (await dispatch_round(database)).assigned == 0
    tracking = await client.get(
        f"/api/v1/orders/{held['id']}/tracking", headers=scene.shopper_headers
    )
    assert tracking.status_code == 200
    assert (tracking.json()["delivery_status"], tracking.json()["courier"]) == ("by_store", None)
