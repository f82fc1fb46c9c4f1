"""The console's money pages over HTTP: settlements by day, a day's statement with its CSV,
refunds; in English and Chinese; only for the merchant's owners and managers."""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from tests.factories import make_staff
from tests.orders.scene import OrderScene, make_scene, pay, place
from tests.web.conftest import log_in


@pytest.fixture
async def scene(session: AsyncSession) -> OrderScene:
    return await make_scene(session)


async def trade(client: httpx.AsyncClient, app: FastAPI, scene: OrderScene) -> tuple[int, int]:
    """One order paid and kept, one paid and cancelled: (kept id, cancelled id)."""
    kept = await pay(client, app, scene, (await place(client, scene)).json()["id"])
    gone = await pay(client, app, scene, (await place(client, scene)).json()["id"])
    r = await client.post(
        f"/api/v1/orders/{gone['id']}/cancel", json={"reason": ""}, headers=scene.shopper_headers
    )
    assert r.status_code == 200, r.text
    return kept["id"], gone["id"]


async def owner(session: AsyncSession, scene: OrderScene) -> str:
    user, _ = await make_staff(session, merchant=scene.merchant, role=MemberRole.OWNER)
    await session.commit()
    return user.email


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ("Settlements", "Commission 5% (platform default)", "Owed to you", "2 orders")),
        ("zh_CN", ("结算对账", "佣金 5%（平台默认）", "应结给您", "2 单")),
    ],
)
async def test_settlements_list_the_days_with_what_is_owed(
    client: httpx.AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    scene: OrderScene,
    lang: str,
    words: tuple[str, ...],
) -> None:
    await trade(client, app, scene)
    await log_in(client, await owner(session, scene))
    picked = await client.get("/merchant/settlements")
    assert picked.status_code == 303
    assert picked.headers["location"] == f"/merchant/settlements/{scene.merchant.id}"
    page = await client.get(picked.headers["location"], params={"lang": lang})
    assert page.status_code == 200, page.text[:300]
    for word in words:
        assert word in page.text, word
    # 2 sales of ¥199 at 5%, one refunded with its commission: ¥189.05 owed
    assert "¥189.05" in page.text
    day = re.search(
        rf'href="/merchant/settlements/{scene.merchant.id}/(\d{{4}}-\d\d-\d\d)"', page.text
    )
    assert day, "no day listed"
    assert 'aria-current="page"' in page.text.split('href="/merchant/settlements"')[1][:40]


async def test_a_days_statement_and_its_csv(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    kept, gone = await trade(client, app, scene)
    await log_in(client, await owner(session, scene))
    m = scene.merchant.id
    listing = await client.get(f"/merchant/settlements/{m}")
    day = re.search(rf"/merchant/settlements/{m}/(\d{{4}}-\d\d-\d\d)", listing.text)
    assert day
    page = await client.get(f"/merchant/settlements/{m}/{day.group(1)}", params={"lang": "zh_CN"})
    assert page.status_code == 200
    for text in (
        f"订单 #{kept}",
        f"订单 #{gone}",
        "顾客取消",
        "下载 CSV",
        "当日应结给您",
        "¥189.05",
    ):
        assert text in page.text, text
    download = await client.get(f"/merchant/settlements/{m}/{day.group(1)}.csv")
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [(r["kind"], r["order_id"]) for r in rows] == [
        ("sale", str(kept)),
        ("sale", str(gone)),
        ("refund", str(gone)),
        ("total", ""),
    ]
    assert rows[-1]["net"] == "189.05"
    empty = await client.get(f"/merchant/settlements/{m}/2020-01-01", params={"lang": "en"})
    assert "Nothing was sold or refunded on this day" in empty.text


async def test_refunds_page(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    _kept, gone = await trade(client, app, scene)
    await log_in(client, await owner(session, scene))
    page = await client.get(f"/merchant/refunds/{scene.merchant.id}", params={"lang": "en"})
    assert page.status_code == 200
    assert f"Order #{gone}" in page.text
    assert "Cancelled by the customer" in page.text
    assert "from you ¥189.05 · commission back ¥9.95" in page.text
    assert "1 refund" in page.text


async def test_a_bad_period_is_said_and_the_last_30_days_shown(
    client: httpx.AsyncClient, session: AsyncSession, scene: OrderScene
) -> None:
    await log_in(client, await owner(session, scene))
    m = scene.merchant.id
    swapped = await client.get(
        f"/merchant/settlements/{m}", params={"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert swapped.status_code == 422
    assert "The first day comes after the last one" in swapped.text
    assert "Showing the last 30 days instead." in swapped.text
    garbled = await client.get(f"/merchant/refunds/{m}", params={"from": "2026-02-31", "to": ""})
    assert garbled.status_code == 422
    assert "year-month-day" in garbled.text
    long = await client.get(
        f"/merchant/settlements/{m}", params={"from": "2020-01-01", "to": "2026-01-01"}
    )
    assert long.status_code == 422
    assert "at most a year" in long.text
    only_from = await client.get(
        f"/merchant/settlements/{m}", params={"from": "2026-01-01", "to": ""}
    )
    assert only_from.status_code == 200
    assert 'value="2026-01-30"' in only_from.text


async def test_clerks_and_strangers_see_no_money(
    client: httpx.AsyncClient, session: AsyncSession, scene: OrderScene
) -> None:
    await log_in(client, scene.clerk.email)
    console = await client.get("/merchant")
    assert 'href="/merchant/settlements"' not in console.text
    picked = await client.get("/merchant/settlements", params={"lang": "en"})
    assert picked.status_code == 403
    assert "Settlements are for owners and managers" in picked.text
    for path in (
        f"/merchant/settlements/{scene.merchant.id}",
        f"/merchant/settlements/{scene.merchant.id}/2026-01-01",
        f"/merchant/settlements/{scene.merchant.id}/2026-01-01.csv",
        f"/merchant/refunds/{scene.merchant.id}",
    ):
        assert (await client.get(path)).status_code == 403, path
    assert (await client.get("/merchant/settlements/999999999")).status_code == 404
    anonymous = httpx.AsyncClient(transport=client._transport, base_url="http://test")
    async with anonymous:
        r = await anonymous.get(f"/merchant/settlements/{scene.merchant.id}")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")
