"""A store with stock, a shopper and a clerk: the cast of the order tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole, User
from o2o.catalog.models import Variant
from o2o.merchants.models import Merchant, Store
from o2o.regions.models import Region
from o2o.worker.relay import Relay
from tests.factories import make_staff, make_user, stock, token_for
from tests.inventory.scene import make_shop


@dataclass
class OrderScene:
    region: Region
    merchant: Merchant
    store: Store
    variants: list[Variant]
    shopper: User
    shopper_headers: dict[str, str]
    clerk: User
    clerk_headers: dict[str, str]


async def make_scene(
    session: AsyncSession, *, qty: int = 10, sizes: tuple[str, ...] = ("S", "M", "L")
) -> OrderScene:
    shop = await make_shop(session, sizes=sizes)
    for variant in shop.variants:
        await stock(session, store=shop.store, variant_id=variant.id, qty=qty)
    shopper = await make_user(session)
    clerk, clerk_headers = await make_staff(session, merchant=shop.merchant, role=MemberRole.CLERK)
    headers = await token_for(session, shopper)
    await session.commit()
    return OrderScene(
        shop.region,
        shop.merchant,
        shop.store,
        shop.variants,
        shopper,
        headers,
        clerk,
        clerk_headers,
    )


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def place(
    client: httpx.AsyncClient,
    scene: OrderScene,
    *,
    lines: list[tuple[int, int]] | None = None,
    fulfilment: str = "pickup",
    **extra: Any,
) -> httpx.Response:
    body = {
        "store_id": scene.store.id,
        "fulfilment": fulfilment,
        "lines": [{"variant_id": v, "qty": q} for v, q in (lines or [(scene.variants[1].id, 1)])],
        **extra,
    }
    return await client.post(
        "/api/v1/orders", json=body, headers={**scene.shopper_headers, **key()}
    )


async def pay(
    client: httpx.AsyncClient, app: FastAPI, scene: OrderScene, order_id: int
) -> dict[str, Any]:
    """Pay through the demo wallet: start, approve in the wallet, let its notification
    arrive. Returns the order afterwards."""
    started = await client.post(
        f"/api/v1/orders/{order_id}/payments",
        json={"provider": "demo"},
        headers=scene.shopper_headers,
    )
    assert started.status_code == 201, started.text
    payment = started.json()
    token = payment["qr_payload"].split("t=")[1]
    confirmed = await client.post(
        f"/api/v1/payments/demo/{payment['payment_id']}/confirm", json={"token": token}
    )
    assert confirmed.status_code == 200, confirmed.text
    relay: Relay = app.state.relay
    await relay.drain()
    order = await client.get(f"/api/v1/orders/{order_id}", headers=scene.shopper_headers)
    result: dict[str, Any] = order.json()
    return result
