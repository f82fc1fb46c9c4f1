"""The pay page with Alipay enabled (the demo's sandbox): checkout starts an Alipay payment,
the page offers the other provider, links to the sandbox wallet, and turns paid when Alipay's
notification arrives; switching provider closes the pending payment."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.payments.models import Payment
from o2o.sandbox.alipay import AlipaySandbox
from tests.factories import make_user
from tests.payments.alipay_scene import alipay_app
from tests.web.conftest import World, csrf_of, log_in
from tests.web.test_order_pages import add, checkout

WALLET = re.compile(r'id="open-wallet" href="([^"]+)"')


@pytest.fixture
def demo(settings: Settings, database: Database) -> tuple[FastAPI, AlipaySandbox]:
    return alipay_app(settings.model_copy(update={"demo_mode": True}), database)


@pytest.fixture
async def browser(demo: tuple[FastAPI, AlipaySandbox]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=demo[0])
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_paying_with_alipay_from_the_pay_page(
    demo: tuple[FastAPI, AlipaySandbox],
    browser: httpx.AsyncClient,
    world: World,
    session: AsyncSession,
) -> None:
    _, sandbox = demo
    shopper = await make_user(session)
    await session.commit()
    await log_in(browser, shopper.email)
    await add(browser, world)

    # when the shopper checks out, the pay page shows Alipay's code, chosen by default
    placed = await checkout(browser, world)
    assert placed.status_code == 303, placed.text
    pay_url = placed.headers["location"]
    page = await browser.get(pay_url)
    assert page.status_code == 200
    assert '<p class="pay-with">Alipay</p>' in page.text
    assert 'name="provider" value="demo"' in page.text  # the other way to pay
    assert "Open the wallet (demo)" in page.text
    wallet = WALLET.search(page.text)
    assert wallet is not None
    assert wallet.group(1).startswith("/sandbox/alipay/qr/")
    assert "支付宝" in (await browser.get(f"{pay_url}?lang=zh_CN")).text

    # and paying in the sandbox's wallet makes the order paid once Alipay notifies
    assert "确认付款 · Pay" in (await browser.get(wallet.group(1))).text
    assert (await browser.post(f"{wallet.group(1)}/pay")).status_code == 303
    assert [d.accepted for d in await sandbox.deliver()] == [True]
    order_id = pay_url.split("/")[2]
    assert (await browser.get(pay_url)).headers.get("location") == f"/orders/{order_id}"


async def test_switching_to_the_demo_wallet_closes_the_alipay_payment(
    demo: tuple[FastAPI, AlipaySandbox],
    browser: httpx.AsyncClient,
    world: World,
    session: AsyncSession,
) -> None:
    shopper = await make_user(session)
    await session.commit()
    await log_in(browser, shopper.email)
    await add(browser, world)
    pay_url = (await checkout(browser, world)).headers["location"]
    page = await browser.get(pay_url)

    switched = await browser.post(
        pay_url, data={"provider": "demo", "csrf_token": csrf_of(page.text)}
    )

    assert switched.status_code == 303
    page = await browser.get(pay_url)
    assert "Open the wallet (demo)" in page.text
    assert '<p class="pay-with">Demo wallet</p>' in page.text
    assert 'name="provider" value="alipay"' in page.text
    payments = (
        await session.execute(Payment.__table__.select().order_by(Payment.id.desc()).limit(2))
    ).all()
    assert [(p.provider, p.status) for p in payments] == [("demo", "pending"), ("alipay", "closed")]
    unknown = await browser.post(
        pay_url, data={"provider": "paypal", "csrf_token": csrf_of(page.text)}
    )
    assert unknown.status_code == 422
