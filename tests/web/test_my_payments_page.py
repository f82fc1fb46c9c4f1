"""The shopper's Payments and refunds page over HTTP: each payment with its provider, amount,
status, orders and refunds; an empty state that says what to do; only the shopper's own."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_user
from tests.orders.scene import make_scene, pay, place
from tests.web.conftest import log_in

URL = "/me/payments"


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "en",
            (
                "Payments and refunds",
                "Demo wallet",
                "Refunded",
                "Paid",
                "Cancelled by the customer",
            ),
        ),
        ("zh_CN", ("支付与退款", "演示钱包", "已退款", "已支付", "顾客取消")),
    ],
)
async def test_the_shopper_sees_payments_and_refunds(
    client: httpx.AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    lang: str,
    words: tuple[str, ...],
) -> None:
    scene = await make_scene(session)
    kept = await pay(client, app, scene, (await place(client, scene)).json()["id"])
    gone = await pay(client, app, scene, (await place(client, scene)).json()["id"])
    cancelled = await client.post(
        f"/api/v1/orders/{gone['id']}/cancel",
        json={"reason": "cancelled by the shopper"},
        headers=scene.shopper_headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    await log_in(client, scene.shopper.email)

    page = await client.get(URL, params={"lang": lang})
    assert page.status_code == 200, page.text[:300]
    for word in words:
        assert word in page.text, word
    assert page.text.index(f'href="/orders/{gone["id"]}"') < page.text.index(
        f'href="/orders/{kept["id"]}"'
    )
    assert page.text.count("¥199") >= 3  # two payments and the refund
    me = await client.get("/me", params={"lang": lang})
    assert 'href="/me/payments"' in me.text


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", ("No payments yet", "See what is nearby")), ("zh_CN", ("还没有支付记录",))],
)
async def test_someone_without_payments_is_told_what_to_do(
    client: httpx.AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    lang: str,
    words: tuple[str, ...],
) -> None:
    scene = await make_scene(session)
    await pay(client, app, scene, (await place(client, scene)).json()["id"])
    other = await make_user(session)
    await session.commit()
    await log_in(client, other.email)
    page = await client.get(URL, params={"lang": lang})
    assert page.status_code == 200
    for word in words:
        assert word in page.text, word
    assert "¥" not in page.text
    assert 'href="/nearby"' in page.text


async def test_the_page_needs_a_login(client: httpx.AsyncClient) -> None:
    answer = await client.get(URL)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")
