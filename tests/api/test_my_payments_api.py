"""GET /api/v1/me/payments: the caller's payments newest first, each with the orders it paid
and its refunds; another shopper's never; a page at a time."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.worker.relay import Relay
from tests.factories import make_user, token_for
from tests.orders.scene import make_scene, pay, place

URL = "/api/v1/me/payments"


async def test_payments_with_their_orders_and_refunds_newest_first(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    kept = await pay(client, app, scene, (await place(client, scene)).json()["id"])
    gone = await pay(client, app, scene, (await place(client, scene)).json()["id"])
    cancelled = await client.post(
        f"/api/v1/orders/{gone['id']}/cancel", json={"reason": ""}, headers=scene.shopper_headers
    )
    assert cancelled.status_code == 200, cancelled.text
    unpaid = (await place(client, scene)).json()  # placed, never paid: no payment
    # The refund is decided at once and made at the provider by the worker after commit.
    decided = (await client.get(URL, headers=scene.shopper_headers)).json()["items"][0]
    assert [r["status"] for r in decided["refunds"]] == ["pending"]
    relay: Relay = app.state.relay
    await relay.drain()

    mine = await client.get(URL, headers=scene.shopper_headers)
    assert mine.status_code == 200, mine.text
    items = mine.json()["items"]
    assert [(p["id"], p["provider"], p["status"], p["amount"]) for p in items] == [
        (gone["payment_id"], "demo", "succeeded", gone["total"]),
        (kept["payment_id"], "demo", "succeeded", kept["total"]),
    ]
    assert [o["id"] for o in items[0]["orders"]] == [gone["id"]]
    assert items[0]["orders"][0]["status"] == "cancelled"
    assert items[0]["refunded"] == gone["total"]
    assert [(r["amount"], r["status"], r["order_id"]) for r in items[0]["refunds"]] == [
        (gone["total"], "succeeded", gone["id"])
    ]
    assert items[1]["refunds"] == []
    assert items[1]["paid_at"] is not None
    assert unpaid["id"] not in {o["id"] for p in items for o in p["orders"]}

    # a page of one, then the next
    first = (await client.get(URL, params={"limit": 1}, headers=scene.shopper_headers)).json()
    assert [p["id"] for p in first["items"]] == [gone["payment_id"]]
    second = (
        await client.get(
            URL, params={"limit": 1, "cursor": first["next_cursor"]}, headers=scene.shopper_headers
        )
    ).json()
    assert ([p["id"] for p in second["items"]], second["next_cursor"]) == (
        [kept["payment_id"]],
        None,
    )

    # someone else sees none of it
    stranger = await token_for(session, await make_user(session))
    await session.commit()
    theirs = await client.get(URL, headers=stranger)
    assert theirs.json() == {"items": [], "next_cursor": None}


async def test_login_and_a_good_cursor_are_needed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    assert (await client.get(URL)).status_code == 401
    shopper = await token_for(session, await make_user(session))
    await session.commit()
    bad = await client.get(URL, params={"cursor": "WyJ4Il0"}, headers=shopper)  # ["x"]
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_cursor")
