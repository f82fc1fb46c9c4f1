"""Click & collect through HTTP: order, pay with the demo wallet, prepare, redeem."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.inventory import queries as inventory_queries
from tests.inventory.scene import level_of
from tests.orders.scene import key, make_scene, pay, place


async def test_click_and_collect_loop(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    # Given a store with 10 of size M
    scene = await make_scene(session)
    m = scene.variants[1]

    # When the shopper orders 2 of size M for pickup
    placed = await place(client, scene, lines=[(m.id, 2)])
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "placed"
    assert order["total"] == 2 * 19900
    assert order["currency"] == "CNY"
    assert [(line["variant_id"], line["qty"]) for line in order["lines"]] == [(m.id, 2)]
    assert order["pickup_window"] is not None
    assert order["pickup_code"] is None
    # Then the units are reserved, not sold
    assert await level_of(session, scene.store, m.id) == (10, 2)

    # When they pay with the demo wallet
    paid = await pay(client, app, scene, order["id"])
    # Then the order is paid, the units sold, and a pickup code issued
    assert paid["status"] == "paid"
    assert await level_of(session, scene.store, m.id) == (8, 0)
    code = paid["pickup_code"]
    assert code is not None
    assert code["status"] == "active"
    assert len(code["code"]) == 9
    assert code["display"].count("-") == 2

    staff = scene.clerk_headers
    base = f"/api/v1/stores/{scene.store.id}/orders"
    queue = await client.get(base, headers=staff)
    assert [o["id"] for o in queue.json()["items"]] == [order["id"]]
    assert queue.json()["items"][0]["next_actions"] == ["accepted", "rejected"]
    assert queue.json()["items"][0]["pickup_code"] is None  # staff never see the code

    for to in ("accepted", "preparing", "ready"):
        moved = await client.post(
            f"{base}/{order['id']}/transitions", json={"to": to}, headers=staff
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == to
    backwards = await client.post(
        f"{base}/{order['id']}/transitions", json={"to": "accepted"}, headers=staff
    )
    assert backwards.status_code == 409
    assert backwards.json()["code"] == "invalid_transition"

    # When the clerk types the code in lower case with the dashes
    redeemed = await client.post(
        f"/api/v1/stores/{scene.store.id}/redemptions",
        json={"code": code["display"].lower()},
        headers=staff,
    )
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["order"]["status"] == "collected"
    again = await client.post(
        f"/api/v1/stores/{scene.store.id}/redemptions", json={"code": code["code"]}, headers=staff
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_redeemed"

    timeline = (
        await client.get(f"/api/v1/orders/{order['id']}", headers=scene.shopper_headers)
    ).json()
    assert [e["status"] for e in timeline["events"]] == [
        "placed",
        "paid",
        "accepted",
        "preparing",
        "ready",
        "collected",
    ]
    assert await inventory_queries.ledger_discrepancies(session) == []


async def test_retried_order_key_creates_one_order(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    body = {
        "store_id": scene.store.id,
        "fulfilment": "pickup",
        "lines": [{"variant_id": scene.variants[0].id, "qty": 1}],
    }
    headers = {**scene.shopper_headers, **key()}
    first = await client.post("/api/v1/orders", json=body, headers=headers)
    second = await client.post("/api/v1/orders", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert second.headers["Idempotent-Replayed"] == "true"
    other = await client.post("/api/v1/orders", json={**body, "note": "x"}, headers=headers)
    assert other.status_code == 422
    mine = await client.get("/api/v1/me/orders", headers=scene.shopper_headers)
    assert len(mine.json()["items"]) == 1
    assert await level_of(session, scene.store, scene.variants[0].id) == (10, 1)
