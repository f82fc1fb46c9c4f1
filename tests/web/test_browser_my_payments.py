"""The shopper's payments in headless Chromium at phone width: after paying one order and
cancelling another, Me → Payments and refunds lists both payments, the refund and its reason,
and the order links lead to the orders."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.web.conftest import new_page, screenshot
from tests.web.live import LiveServer
from tests.web.test_browser_console_orders import log_in, place_and_pay
from tests.web.test_browser_money import _paid

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


def test_the_shopper_reads_payments_and_refunds(chromium: Browser, live_server: LiveServer) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    store_id = live_server.seed.store_ids["threads"][0]
    api = chromium.new_context().request
    kept = place_and_pay(api, base, store_id)
    gone = place_and_pay(api, base, store_id)
    for order in (kept, gone):
        _paid(api, base, order)
    cancelled = api.post(
        f"{base}/api/v1/orders/{gone['id']}/cancel",
        data={"reason": "cancelled by the shopper"},
        headers=gone["shopper"],
    )
    assert cancelled.ok, cancelled.text()

    page = new_page(chromium, width=360, height=780)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, base, "shopper@demo.o2o")
    page.locator(".menu a", has_text="Payments and refunds").click()
    expect(page.locator("h1")).to_have_text("Payments and refunds")
    first = page.locator(".pay-card").first
    expect(first).to_contain_text("Demo wallet")
    expect(first).to_contain_text("Refunded")
    expect(first.locator(".pay-refunds")).to_contain_text("Cancelled by the customer")
    expect(page.locator(f'.pay-card a[href="/orders/{kept["id"]}"]')).to_have_count(1)
    screenshot(page, "my-payments-phone")
    page.goto(f"{base}/me/payments?lang=zh_CN")
    expect(page.locator("h1")).to_have_text("支付与退款")
    screenshot(page, "my-payments-phone-zh")
    page.goto(f"{base}/me/payments?lang=en")
    page.locator(f'.pay-card a[href="/orders/{gone["id"]}"]').first.click()
    page.wait_for_url(f"**/orders/{gone['id']}")
    assert errors == []
