"""The whole click & collect loop in two browsers: the shopper orders and pays on a phone,
the store accepts and marks it ready in the console, the counter redeems the code, and the
shopper's order page follows every step by itself."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.web.conftest import new_page, screenshot
from tests.web.live import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.click(f"button[data-login='{email}']")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/me$"))


def test_order_pay_ready_redeem(chromium: Browser, live_server: LiveServer) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    shop = live_server.seed.store_ids["threads"][0]
    phone = new_page(chromium, width=360, height=780)
    errors: list[str] = []
    phone.on("pageerror", lambda e: errors.append(str(e)))

    # The shopper buys the first product of the store for pickup and pays in the wallet.
    _log_in(phone, base, "shopper@demo.o2o")
    phone.goto(f"{base}/stores/{shop}")
    phone.locator(".product-list a").first.click()
    phone.wait_for_function("document.body.dataset.productReady === '1'")
    phone.click("#add-to-cart")
    phone.wait_for_url(re.compile(r"/cart$"))
    phone.locator(".cart-store-foot .btn").click()
    phone.wait_for_function("document.body.dataset.checkoutReady === '1'")
    phone.click("#pay-button")
    phone.wait_for_url(re.compile(r"/orders/\d+/pay$"))
    order_url = phone.url.removesuffix("/pay")
    order_id = int(order_url.rsplit("/", 1)[1])
    phone.wait_for_function("document.body.dataset.payReady === '1'")
    with phone.context.expect_page() as opened:
        phone.click("#open-wallet")
    wallet = opened.value
    wallet.click("#wallet-pay")
    expect(wallet.locator(".wallet-paid")).to_be_visible()
    phone.wait_for_url(order_url, timeout=20_000)
    live = phone.locator("#order-live")
    expect(live).to_have_attribute("data-status", "paid")
    code = phone.locator("#pickup-code").inner_text()
    # The product page picks the nearest store that has the item: the order is that store's.
    store_href = phone.locator('a.stock-name[href^="/stores/"]').first.get_attribute("href")
    assert store_href is not None
    store_id = int(store_href.rsplit("/", 1)[1])

    # The store: the paid order waits in the queue; accept it and mark it ready.
    desk = new_page(chromium, width=1280, height=860)
    desk.on("pageerror", lambda e: errors.append(str(e)))
    _log_in(desk, base, "owner@demo.o2o")
    desk.goto(f"{base}/merchant/stores/{store_id}/orders")
    card = desk.locator(f".col-new #order-{order_id}")
    expect(card).to_be_visible()
    card.locator("button[data-to=accepted]").click()
    desk.locator(f".col-preparing #order-{order_id} button[data-to=ready]").click()
    expect(desk.locator(f".col-ready #order-{order_id}")).to_be_visible()

    # The shopper's page hears "ready" without a reload.
    expect(live).to_have_attribute("data-status", "ready", timeout=20_000)
    screenshot(phone, "loop-ready-360")

    # At the counter the shopper shows the code; it is handed over once.
    desk.goto(f"{base}/merchant/stores/{store_id}/counter")
    desk.locator("#code").fill(code)
    desk.keyboard.press("Enter")
    expect(desk.locator(".redeem-result.is-ok")).to_contain_text(f"#{order_id}")
    screenshot(desk, "loop-counter-1280")
    expect(live).to_have_attribute("data-status", "collected", timeout=20_000)
    desk.locator("#code").fill(code)
    desk.keyboard.press("Enter")
    expect(desk.locator(".redeem-result.is-error")).to_be_visible()
    assert errors == []
