"""A store taking delivery orders, its shopper and clerk, and couriers: the cast of the live
delivery tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import User
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.delivery import rounds
from o2o.delivery.policy import CourierPolicy
from o2o.merchants.models import Store
from tests.factories import make_user, token_for
from tests.orders.scene import OrderScene, make_scene, pay, place

METRES_PER_DEGREE_LAT = 111_195.0


@dataclass
class Courier:
    user: User
    headers: dict[str, str]


async def make_courier(session: AsyncSession, **overrides: Any) -> Courier:
    user = await make_user(session, is_courier=True, **overrides)
    headers = await token_for(session, user)
    await session.commit()
    return Courier(user, headers)


def address(store: Store, north_m: float) -> dict[str, object]:
    return {"text": "12 Home Road", "lat": store.lat + north_m / METRES_PER_DEGREE_LAT,
            "lng": store.lng}  # fmt: skip


async def paid_delivery(
    client: httpx.AsyncClient, app: FastAPI, scene: OrderScene, *, north_m: float = 1200
) -> dict[str, Any]:
    where = address(scene.store, north_m)
    placed = await place(client, scene, fulfilment="delivery", address=where)
    assert placed.status_code == 201, placed.text
    return await pay(client, app, scene, placed.json()["id"])


async def staff_moves(client: httpx.AsyncClient, scene: OrderScene, order_id: int,
                      *steps: str) -> None:  # fmt: skip
    for to in steps:
        moved = await client.post(
            f"/api/v1/stores/{scene.store.id}/orders/{order_id}/transitions",
            json={"to": to},
            headers=scene.clerk_headers,
        )
        assert moved.status_code == 200, moved.text


def fix(store: Store, *, north_m: float = 0.0, ago_s: float = 5.0,
        at: datetime | None = None) -> dict[str, object]:  # fmt: skip
    when = at or utcnow() - timedelta(seconds=ago_s)
    return {"lat": store.lat + north_m / METRES_PER_DEGREE_LAT, "lng": store.lng,
            "at": when.isoformat()}  # fmt: skip


async def on_shift_at(client: httpx.AsyncClient, courier: Courier, store: Store,
                      *, region_id: int, north_m: float = 0.0) -> None:  # fmt: skip
    shift = await client.post(
        "/api/v1/couriers/me/shift", json={"on": True, "region_id": region_id},
        headers=courier.headers,
    )  # fmt: skip
    assert shift.status_code == 200, shift.text
    sent = await client.post(
        "/api/v1/couriers/me/positions",
        json={"positions": [fix(store, north_m=north_m)]},
        headers=courier.headers,
    )
    assert sent.status_code == 200, sent.text


async def dispatch_round(database: Database, policy: CourierPolicy | None = None) -> rounds.Round:
    return await rounds.run_round(database, policy=policy or CourierPolicy(), now=utcnow())


__all__ = ["OrderScene", "make_scene"]
