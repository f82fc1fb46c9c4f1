"""The admin console's reconciliation page over HTTP: the form, a day that agrees, a day
with a difference, a bad date; English and Chinese; platform admins only."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.payments.demo_wallet import DemoWalletRefund, DemoWalletTrade
from tests.factories import make_user
from tests.orders.scene import make_scene, pay, place
from tests.web.conftest import log_in

URL = "/admin/reconciliation"


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ("Payment reconciliation", "Our books and the bill agree", "1 movement matches")),
        ("zh_CN", ("支付对账", "我方账目与渠道账单一致", "1 笔款项一致")),
    ],
)
async def test_admins_reconcile_a_day(
    client: httpx.AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    lang: str,
    words: tuple[str, ...],
) -> None:
    scene = await make_scene(session)
    order = await pay(client, app, scene, (await place(client, scene)).json()["id"])
    admin = await make_user(session, is_platform_admin=True)
    await session.commit()
    await log_in(client, admin.email)
    today = utcnow().date().isoformat()

    form = await client.get(URL, params={"lang": lang})
    assert form.status_code == 200
    assert 'name="date"' in form.text
    page = await client.get(URL, params={"provider": "demo", "date": today, "lang": lang})
    assert page.status_code == 200, page.text[:300]
    for word in words:
        assert word in page.text, word

    await session.execute(delete(DemoWalletRefund))
    await session.execute(delete(DemoWalletTrade))
    await session.commit()
    off = await client.get(URL, params={"provider": "demo", "date": today, "lang": lang})
    assert off.status_code == 200
    missing = "Missing at the provider" if lang == "en" else "渠道账单缺失"
    assert missing in off.text
    assert f"#{order['payment_id']}" in off.text

    bad = await client.get(URL, params={"provider": "demo", "date": "2026-02-30"})
    assert bad.status_code == 422
    assert "form-error" in bad.text


async def test_the_page_is_for_platform_admins(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    shopper = await make_user(session)
    await session.commit()
    await log_in(client, shopper.email)
    assert (await client.get(URL)).status_code == 403
