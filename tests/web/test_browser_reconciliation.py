"""The reconciliation page in headless Chromium at phone width: after an order is paid with
the demo wallet, the platform admin reconciles today and sees both sides agree."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from tests.web.conftest import new_page, screenshot
from tests.web.live import LiveServer
from tests.web.test_browser_console_orders import log_in, place_and_pay
from tests.web.test_browser_money import _paid

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


def test_the_admin_reconciles_today(chromium: Browser, live_server: LiveServer) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    api = chromium.new_context().request
    order = place_and_pay(api, base, live_server.seed.store_ids["threads"][0])
    _paid(api, base, order)

    page = new_page(chromium, width=360, height=780)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, base, "admin@demo.o2o")
    page.locator("a", has_text="Payment reconciliation").click()
    expect(page.locator("h1")).to_have_text("Payment reconciliation")
    screenshot(page, "reconciliation-form-phone")
    page.fill("input[name=date]", datetime.now(UTC).date().isoformat())
    page.locator("button", has_text="Reconcile").click()
    expect(page.locator("#recon-h")).to_contain_text("Our books and the bill agree")
    expect(page.locator(".recon-totals")).to_contain_text("¥")
    screenshot(page, "reconciliation-phone")
    page.goto(page.url + "&lang=zh_CN")
    expect(page.locator("#recon-h")).to_contain_text("我方账目与渠道账单一致")
    screenshot(page, "reconciliation-phone-zh")
    assert errors == []
