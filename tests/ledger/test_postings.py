"""What the ledger records as orders are paid, cancelled, returned and paid too late; and
that it then reconciles with payments and orders to the minor unit."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.ledger.models import Entry, Journal, JournalKind
from o2o.merchants import service as merchants_service
from o2o.orders import ledger_check
from tests.orders.scene import OrderScene, make_scene, pay, place

PRICE = 19900  # the scene's unit price


@pytest.fixture
async def scene(session: AsyncSession) -> OrderScene:
    return await make_scene(session)


async def entries_of(session: AsyncSession, kind: JournalKind) -> list[tuple[str, int, int | None]]:
    rows = await session.execute(
        select(Entry.account, Entry.amount, Entry.order_id)
        .join(Journal, Journal.id == Entry.journal_id)
        .where(Journal.kind == kind)
        .order_by(Entry.id)
    )
    return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def test_a_paid_order_is_owed_to_its_merchant_net_of_commission(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    placed = await place(client, scene)
    order = await pay(client, app, scene, placed.json()["id"])
    assert order["status"] == "paid"
    m = scene.merchant.id
    assert await entries_of(session, JournalKind.CAPTURE) == [
        ("provider_clearing:demo", PRICE, order["id"]),
        (f"merchant_payable:{m}", -(PRICE - 995), order["id"]),  # 5% of 199.00 = 9.95
        ("platform_commission", -995, order["id"]),
    ]
    assert await ledger_check.differences(session) == []


async def test_the_merchants_own_rate_applies_and_cancellation_reverses_all_of_it(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    await merchants_service.set_commission(
        session, merchant_id=scene.merchant.id, commission_bps=333
    )
    await session.commit()
    placed = await place(client, scene, lines=[(scene.variants[1].id, 3)])
    order = await pay(client, app, scene, placed.json()["id"])
    charged = (3 * PRICE * 333 + 5000) // 10_000  # 1988.01 -> 1988
    cancelled = await client.post(
        f"/api/v1/orders/{order['id']}/cancel",
        json={"reason": "changed my mind"},
        headers=scene.shopper_headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    m = scene.merchant.id
    assert await entries_of(session, JournalKind.REFUND) == [
        (f"merchant_payable:{m}", 3 * PRICE - charged, order["id"]),
        ("platform_commission", charged, order["id"]),
        ("provider_clearing:demo", -3 * PRICE, order["id"]),
    ]
    balances = {a: b for (a, _c), b in (await _balances(session)).items()}
    assert balances[f"merchant_payable:{m}"] == 0
    assert balances["platform_commission"] == 0
    assert balances["provider_clearing:demo"] == 0
    assert await ledger_check.differences(session) == []


async def _balances(session: AsyncSession) -> dict[tuple[str, str], int]:
    from o2o.ledger import audit

    return await audit.balances(session)
