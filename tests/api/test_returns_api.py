"""The returns desk over HTTP: look an order up, take items back at any store of the merchant
(refund or exchange), and refuse every bad request with its own code, changing nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from o2o.catalog.models import Variant
from o2o.core.clock import utcnow
from o2o.inventory import queries as inventory_queries
from o2o.inventory.models import StockMovement
from o2o.orders.models import Order
from tests.factories import make_merchant, make_product, make_staff, make_store
from tests.inventory.scene import level_of
from tests.orders.returns_scene import (
    collected_order,
    money_and_stock,
    second_store,
    take_back,
)
from tests.orders.scene import make_scene, pay, place

PRICE = 19900


async def test_a_return_at_another_store_of_the_merchant_restocks_there_and_refunds(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    # Given an order of 2 M collected at the store, and a second store of the merchant
    scene = await make_scene(session)
    desk = await second_store(session, scene, qty=5)
    m = scene.variants[1]
    order = await collected_order(client, app, scene, [(m.id, 2)])
    (line,) = order["lines"]

    # When the second store's clerk takes one back
    body = {
        "order_id": order["id"],
        "lines": [{"line_id": line["id"], "qty": 1}],
        "reason": "does not fit",
        "kind": "return",
    }
    idem = {"Idempotency-Key": "desk-1"}
    done = await take_back(client, desk.store.id, desk.headers, body, idempotency_key=idem)

    # Then it is refunded and back on the second store's shelf, not the seller's
    assert done.status_code == 201, done.text
    out = done.json()
    assert out["kind"] == "return"
    assert out["store_id"] == desk.store.id
    assert out["refund_amount"] == PRICE
    assert out["refund_id"] is not None
    assert out["restocked"] is True
    assert out["lines"] == [
        {
            "line_id": line["id"],
            "variant_id": m.id,
            "unit_price": PRICE,
            "qty": 1,
            "replacement_variant_id": None,
            "replacement_line_id": None,
        }
    ]
    assert out["order"]["refunded"] == PRICE
    assert out["order"]["lines"][0]["returned_qty"] == 1
    assert await level_of(session, desk.store, m.id) == (6, 0)
    assert await level_of(session, scene.store, m.id) == (8, 0)
    movement = await session.scalar(
        select(StockMovement)
        .where(StockMovement.store_id == desk.store.id, StockMovement.variant_id == m.id)
        .order_by(StockMovement.id.desc())
        .limit(1)
    )
    assert movement is not None
    assert (movement.kind, movement.qty_delta, movement.reference) == (
        "return",
        1,
        f"order:{order['id']}",
    )

    # And a retry with the same key replays the answer without a second refund
    again = await take_back(client, desk.store.id, desk.headers, body, idempotency_key=idem)
    assert again.status_code == 201
    assert again.content == done.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await level_of(session, desk.store, m.id) == (6, 0)

    # And the desk finds the order by its pickup code, however typed, with its returns
    typed = order["pickup_code"]["display"].lower()
    found = await client.get(
        f"/api/v1/stores/{desk.store.id}/orders/lookup", params={"q": typed}, headers=desk.headers
    )
    assert found.status_code == 200, found.text
    (hit,) = found.json()["items"]
    assert hit["order"]["id"] == order["id"]
    assert hit["returnable"] is True
    assert [r["id"] for r in hit["returns"]] == [out["id"]]
    by_id = await client.get(
        f"/api/v1/stores/{desk.store.id}/orders/lookup",
        params={"q": str(order["id"])},
        headers=desk.headers,
    )
    assert [h["order"]["id"] for h in by_id.json()["items"]] == [order["id"]]
    assert await inventory_queries.ledger_discrepancies(session) == []


async def test_an_exchange_takes_the_unit_back_and_hands_out_another_from_that_store(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    desk = await second_store(session, scene, qty=5)
    s, m = scene.variants[0], scene.variants[1]
    order = await collected_order(client, app, scene, [(m.id, 2)])
    (line,) = order["lines"]

    done = await take_back(
        client,
        desk.store.id,
        desk.headers,
        {
            "order_id": order["id"],
            "lines": [{"line_id": line["id"], "qty": 2}],
            "reason": "too big",
            "kind": "exchange",
            "exchange_to": [{"line_id": line["id"], "variant_id": s.id}],
        },
    )

    assert done.status_code == 201, done.text
    out = done.json()
    assert (out["kind"], out["refund_amount"], out["refund_id"]) == ("exchange", 0, None)
    assert out["order"]["refunded"] == 0
    new_line = out["order"]["lines"][1]
    assert (new_line["variant_id"], new_line["qty"], new_line["unit_price"]) == (s.id, 2, PRICE)
    assert out["lines"][0]["replacement_variant_id"] == s.id
    assert out["lines"][0]["replacement_line_id"] == new_line["id"]
    assert await level_of(session, desk.store, m.id) == (7, 0)  # 2 back on the shelf
    assert await level_of(session, desk.store, s.id) == (3, 0)  # 2 handed out
    assert await level_of(session, scene.store, m.id) == (8, 0)
    assert await level_of(session, scene.store, s.id) == (10, 0)
    assert await inventory_queries.ledger_discrepancies(session) == []


async def test_every_bad_request_has_its_own_code_and_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    desk = await second_store(session, scene, qty=1)
    s, m, lv = scene.variants
    other_product = await make_product(session, merchant=scene.merchant, sizes=("M",))
    (other_variant,) = list(
        await session.scalars(select(Variant).where(Variant.product_id == other_product.id))
    )
    stranger = await make_merchant(session)
    their_store = await make_store(session, merchant=stranger, region=scene.region)
    _u, their_clerk = await make_staff(session, merchant=stranger, role=MemberRole.CLERK)
    await session.commit()
    order = await collected_order(client, app, scene, [(m.id, 2), (lv.id, 1)])
    m_line, l_line = (line["id"] for line in order["lines"])
    other = await collected_order(client, app, scene, [(s.id, 1)])
    unpaid = (await place(client, scene, lines=[(s.id, 1)])).json()
    paid_only = await pay(client, app, scene, unpaid["id"])

    def ret(**over: Any) -> dict[str, Any]:
        return {
            "order_id": order["id"],
            "lines": [{"line_id": m_line, "qty": 1}],
            "reason": "does not fit",
            "kind": "return",
            **over,
        }

    def exch(variant_id: int, qty: int = 1, **over: Any) -> dict[str, Any]:
        return ret(
            kind="exchange",
            lines=[{"line_id": m_line, "qty": qty}],
            exchange_to=[{"line_id": m_line, "variant_id": variant_id}],
            **over,
        )

    dearer = await session.get(Variant, lv.id)
    cases: list[tuple[str, int, dict[str, Any], int, dict[str, str], str]] = [
        ("no lines", desk.store.id, ret(lines=[]), 422, desk.headers, "invalid_return_lines"),
        (
            "a line twice",
            desk.store.id,
            ret(lines=[{"line_id": m_line, "qty": 1}, {"line_id": m_line, "qty": 1}]),
            422,
            desk.headers,
            "invalid_return_lines",
        ),
        (
            "no units",
            desk.store.id,
            ret(lines=[{"line_id": m_line, "qty": 0}]),
            422,
            desk.headers,
            "invalid_return_lines",
        ),
        (
            "a line of another order",
            desk.store.id,
            ret(lines=[{"line_id": other["lines"][0]["id"], "qty": 1}]),
            422,
            desk.headers,
            "invalid_return_lines",
        ),
        (
            "more than bought, after a good line",
            desk.store.id,
            ret(lines=[{"line_id": l_line, "qty": 1}, {"line_id": m_line, "qty": 3}]),
            409,
            desk.headers,
            "return_exceeds_quantity",
        ),
        ("no reason", desk.store.id, ret(reason="  "), 422, desk.headers, "return_reason_required"),
        ("no such order", desk.store.id, ret(order_id=2**62), 404, desk.headers, "order_not_found"),
        (
            "not handed over",
            desk.store.id,
            ret(
                order_id=paid_only["id"], lines=[{"line_id": paid_only["lines"][0]["id"], "qty": 1}]
            ),
            409,
            desk.headers,
            "return_not_allowed",
        ),
        (
            "another merchant's store",
            their_store.id,
            ret(),
            403,
            their_clerk,
            "store_of_another_merchant",
        ),
        ("not staff of that store", scene.store.id, ret(), 403, desk.headers, "not_allowed"),
        ("a shopper", desk.store.id, ret(), 403, scene.shopper_headers, "not_allowed"),
        ("no such store", 2**62, ret(), 404, desk.headers, "store_not_found"),
        ("what kind", desk.store.id, ret(kind="refund"), 422, desk.headers, "validation_error"),
        (
            "exchange_to on a return",
            desk.store.id,
            ret(exchange_to=[{"line_id": m_line, "variant_id": s.id}]),
            422,
            desk.headers,
            "exchange_target_invalid",
        ),
        (
            "exchange without a target",
            desk.store.id,
            ret(kind="exchange"),
            422,
            desk.headers,
            "exchange_target_invalid",
        ),
        (
            "exchange for another product",
            desk.store.id,
            exch(other_variant.id),
            422,
            desk.headers,
            "exchange_target_invalid",
        ),
        (
            "exchange for nothing",
            desk.store.id,
            exch(2**62),
            404,
            desk.headers,
            "variant_not_found",
        ),
        (
            "exchange beyond the store's stock",
            desk.store.id,
            exch(s.id, qty=2),
            409,
            desk.headers,
            "insufficient_stock",
        ),
    ]
    assert dearer is not None
    stores = [scene.store, desk.store]
    variant_ids = [s.id, m.id, lv.id]
    before = await money_and_stock(session, order["id"], stores, variant_ids)
    seen: dict[str, int] = {}
    for name, store_id, body, status, headers, code in cases:
        answer = await take_back(client, store_id, headers, body)
        assert (answer.status_code, answer.json().get("code")) == (status, code), (
            name,
            answer.text,
        )
        assert seen.setdefault(code, status) == status  # one code, one status
        assert await money_and_stock(session, order["id"], stores, variant_ids) == before, name

    # No Idempotency-Key: refused before anything runs
    keyless = await client.post(
        f"/api/v1/stores/{desk.store.id}/returns", json=ret(), headers=desk.headers
    )
    assert (keyless.status_code, keyless.json()["code"]) == (400, "idempotency_key_required")

    # A dearer variant
    await session.execute(update(Variant).where(Variant.id == s.id).values(price=PRICE + 1))
    await session.commit()
    dear = await take_back(client, desk.store.id, desk.headers, exch(s.id))
    assert (dear.status_code, dear.json()["code"]) == (409, "exchange_price_differs")
    assert dear.json()["paid"] == PRICE

    # Past the window (30 days after the hand-over)
    await session.execute(
        update(Order)
        .where(Order.id == order["id"])
        .values(closed_at=utcnow() - timedelta(days=30, minutes=1))
    )
    await session.commit()
    late = await take_back(client, desk.store.id, desk.headers, ret())
    assert (late.status_code, late.json()["code"]) == (409, "return_window_closed")
    assert await money_and_stock(session, order["id"], stores, variant_ids) == before
    assert await inventory_queries.ledger_discrepancies(session) == []


async def test_lookup_sees_only_the_merchants_orders(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    order = await collected_order(client, app, scene, [(scene.variants[0].id, 1)])
    stranger = await make_merchant(session)
    their_store = await make_store(session, merchant=stranger, region=scene.region)
    _u, their_clerk = await make_staff(session, merchant=stranger, role=MemberRole.CLERK)
    await session.commit()
    url = f"/api/v1/stores/{their_store.id}/orders/lookup"

    theirs = await client.get(url, params={"q": str(order["id"])}, headers=their_clerk)
    code = await client.get(url, params={"q": order["pickup_code"]["code"]}, headers=their_clerk)
    assert theirs.json() == code.json() == {"items": []}
    not_staff = await client.get(url, params={"q": "1"}, headers=scene.clerk_headers)
    assert (not_staff.status_code, not_staff.json()["code"]) == (403, "not_allowed")
    empty = await client.get(url, params={"q": ""}, headers=their_clerk)
    assert (empty.status_code, empty.json()["code"]) == (422, "validation_error")
