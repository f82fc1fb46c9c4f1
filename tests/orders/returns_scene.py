"""Orders handed over and ready to come back: the cast of the returns tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from o2o.merchants.models import Store
from o2o.orders.models import Order, OrderLine
from o2o.orders.returns_models import OrderReturn
from o2o.payments.models import Payment, Refund
from tests.factories import make_staff, make_store, stock
from tests.inventory.scene import level_of
from tests.orders.scene import OrderScene, key, pay, place


@dataclass
class Desk:
    """A second store of the same merchant, its own clerk (scoped to it), and its stock."""

    store: Store
    headers: dict[str, str]


async def second_store(session: AsyncSession, scene: OrderScene, *, qty: int = 5) -> Desk:
    store = await make_store(session, merchant=scene.merchant, region=scene.region)
    for variant in scene.variants:
        await stock(session, store=store, variant_id=variant.id, qty=qty)
    _clerk, headers = await make_staff(
        session, merchant=scene.merchant, role=MemberRole.CLERK, store_ids=[store.id]
    )
    await session.commit()
    return Desk(store, headers)


async def collect(
    client: httpx.AsyncClient, app: FastAPI, scene: OrderScene, order_id: int
) -> dict[str, Any]:
    """Pay for the placed order and redeem its pickup code at its store: it is collected."""
    paid = await pay(client, app, scene, order_id)
    assert paid["status"] == "paid", paid
    redeemed = await client.post(
        f"/api/v1/stores/{scene.store.id}/redemptions",
        json={"code": paid["pickup_code"]["code"]},
        headers=scene.clerk_headers,
    )
    assert redeemed.status_code == 200, redeemed.text
    order: dict[str, Any] = redeemed.json()["order"]
    assert order["status"] == "collected"
    order["pickup_code"] = paid["pickup_code"]
    return order


async def collected_order(
    client: httpx.AsyncClient,
    app: FastAPI,
    scene: OrderScene,
    lines: list[tuple[int, int]],
) -> dict[str, Any]:
    placed = await place(client, scene, lines=lines)
    assert placed.status_code == 201, placed.text
    return await collect(client, app, scene, placed.json()["id"])


async def take_back(
    client: httpx.AsyncClient,
    store_id: int,
    headers: dict[str, str],
    body: dict[str, Any],
    *,
    idempotency_key: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/stores/{store_id}/returns",
        json=body,
        headers={**headers, **(idempotency_key if idempotency_key is not None else key())},
    )


async def money_and_stock(
    session: AsyncSession, order_id: int, stores: list[Store], variant_ids: list[int]
) -> tuple[object, ...]:
    """Everything a return may change, to assert that a refused one changed nothing."""
    order = await session.get(Order, order_id, populate_existing=True)
    assert order is not None
    returned = list(
        await session.scalars(
            select(OrderLine.returned_qty)
            .where(OrderLine.order_id == order_id)
            .order_by(OrderLine.id)
        )
    )
    payment = await session.get(Payment, order.payment_id, populate_existing=True)
    refunds = await session.scalar(select(func.count()).select_from(Refund))
    records = await session.scalar(select(func.count()).select_from(OrderReturn))
    levels = [await level_of(session, s, v) for s in stores for v in variant_ids]
    return (
        order.refunded,
        returned,
        payment.refunded if payment else None,
        refunds,
        records,
        levels,
    )
