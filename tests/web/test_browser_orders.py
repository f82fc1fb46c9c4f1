"""Click & collect in headless Chromium at phone width: product → cart → checkout (pickup) →
the pay page's QR → the demo wallet pays → the pay page turns into the paid order page, with
its pickup code, by itself."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.web.conftest import new_page, screenshot
from tests.web.live import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_shopper_buys_for_pickup_and_pays_with_the_demo_wallet(
    chromium: Browser, live_server: LiveServer, lang: str
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    page = new_page(chromium, width=360, height=780)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # Log in as the demo shopper.
    page.goto(f"{base}/login?lang={lang}")
    page.click("button[data-login='shopper@demo.o2o']")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/me$"))

    # A product of a store that has stock; the nearest store with it is picked already.
    store_id = live_server.seed.store_ids["threads"][0]
    page.goto(f"{base}/stores/{store_id}")
    page.locator(".product-list a").first.click()
    page.wait_for_url(re.compile(r"/products/\d+"))
    page.wait_for_function("document.body.dataset.productReady === '1'")
    expect(page.locator("#stock-list .pick-store input:checked")).to_have_count(1)
    page.click("#add-to-cart")

    # The cart: one store, one line; check out.
    page.wait_for_url(re.compile(r"/cart$"))
    expect(page.locator(".cart-line")).to_have_count(1)
    screenshot(page, f"cart-{lang}-360")
    page.locator(".cart-store-foot .btn").click()

    # Checkout: pickup is chosen; the sticky total and pay button are there.
    page.wait_for_url(re.compile(r"/checkout"))
    page.wait_for_function("document.body.dataset.checkoutReady === '1'")
    expect(page.locator('input[name="fulfilment"][value="pickup"]')).to_be_checked()
    expect(page.locator("#pay-total")).to_contain_text("¥")
    expect(page.locator("#address")).to_be_hidden()
    screenshot(page, f"checkout-{lang}-360")
    page.click("#pay-button")

    # Pay page: the QR large, the amount, the countdown; open the wallet (demo).
    page.wait_for_url(re.compile(r"/orders/\d+/pay$"))
    order_url = page.url.removesuffix("/pay")
    expect(page.locator(".qr-box svg")).to_be_visible()
    expect(page.locator("#countdown-left")).to_have_text(re.compile(r"^1?\d:\d\d$"))
    page.wait_for_function("document.body.dataset.payReady === '1'")
    screenshot(page, f"pay-{lang}-360")
    with page.context.expect_page() as opened:
        page.click("#open-wallet")
    wallet = opened.value
    wallet.wait_for_load_state()
    expect(wallet.locator(".wallet-amount")).to_contain_text("¥")
    screenshot(wallet, f"wallet-{lang}-360")
    wallet.click("#wallet-pay")
    expect(wallet.locator(".wallet-paid")).to_be_visible()
    screenshot(wallet, f"wallet-paid-{lang}-360")

    # The pay page becomes the order page on its own: paid, with the pickup code.
    page.wait_for_url(order_url, timeout=20_000)
    expect(page.locator("#order-live")).to_have_attribute("data-status", "paid")
    expect(page.locator("#pickup-code")).to_have_text(re.compile(r"^\w{4}-\w{4}-.$"))
    screenshot(page, f"order-{lang}-360")
    page.click("#qr-open")
    expect(page.locator("#qr-full")).to_be_visible()
    screenshot(page, f"order-qr-{lang}-360")
    page.keyboard.press("Escape")
    expect(page.locator("#qr-full")).to_be_hidden()

    # The Orders tab lists it first.
    page.goto(f"{base}/orders")
    expect(page.locator(".order-card").first).to_have_attribute(
        "href", order_url.removeprefix(base)
    )
    screenshot(page, f"orders-{lang}-360")
    assert errors == []
