"""GET /api/v1/admin/reconciliation: platform admins only; the demo wallet's day against our
books, as JSON and CSV; clear problems for a bad provider or date."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.payments.demo_wallet import DemoWalletRefund, DemoWalletTrade
from tests.factories import make_user, token_for
from tests.orders.scene import make_scene, pay, place

URL = "/api/v1/admin/reconciliation"


async def test_admins_see_the_day_and_each_difference(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    order = await pay(client, app, scene, (await place(client, scene)).json()["id"])
    admin = await token_for(session, await make_user(session, is_platform_admin=True))
    await session.commit()
    today = utcnow().date().isoformat()

    agreed = await client.get(URL, params={"provider": "demo", "date": today}, headers=admin)
    assert agreed.status_code == 200, agreed.text
    body = agreed.json()
    assert (body["reconciled"], body["matched"], body["differences"]) == (True, 1, [])
    assert body["ours"] == body["theirs"]
    assert body["ours"][0]["payments_amount"] == order["total"]
    assert (body["timezone"], body["start"][:10]) == ("UTC", today)

    # the wallet forgets the trade: our capture is missing at the provider
    await session.execute(delete(DemoWalletRefund))
    await session.execute(delete(DemoWalletTrade))
    await session.commit()
    found = await client.get(URL, params={"provider": "demo", "date": today}, headers=admin)
    assert [
        (d["kind"], d["movement"], d["payment_id"], d["ours"], d["theirs"])
        for d in found.json()["differences"]
    ] == [("missing_at_provider", "payment", order["payment_id"], order["total"], None)]
    assert found.json()["theirs"] == []
    as_csv = await client.get(
        URL, params={"provider": "demo", "date": today, "format": "csv"}, headers=admin
    )
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    lines = as_csv.content.decode("utf-8-sig").splitlines()
    assert lines[1].startswith(f"{today},demo,missing_at_provider,payment,{order['payment_id']},")


async def test_only_admins_and_clear_problems(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    shopper = await token_for(session, await make_user(session))
    admin = await token_for(session, await make_user(session, is_platform_admin=True))
    await session.commit()
    today = {"provider": "demo", "date": utcnow().date().isoformat()}

    assert (await client.get(URL, params=today)).status_code == 401
    refused = await client.get(URL, params=today, headers=shopper)
    assert (refused.status_code, refused.json()["code"]) == (403, "not_allowed")
    unknown = await client.get(URL, params={**today, "provider": "paypal"}, headers=admin)
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_provider")
    disabled = await client.get(URL, params={**today, "provider": "wechat"}, headers=admin)
    assert (disabled.status_code, disabled.json()["code"]) == (422, "provider_not_enabled")
    bad = await client.get(URL, params={**today, "date": "2026-02-30"}, headers=admin)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
