"""The money pages in headless Chromium: after an order is paid and another paid then
cancelled, the owner opens Money from the console's bar, finds today's settlement, opens the
day's statement with both orders behind it, downloads its CSV, and sees the refund."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.web.conftest import new_page, screenshot
from tests.web.live import LiveServer
from tests.web.test_browser_console_orders import log_in, place_and_pay

if TYPE_CHECKING:
    from playwright.sync_api import APIRequestContext, Browser

pytestmark = pytest.mark.browser


def _paid(api: APIRequestContext, base: str, order: dict[str, Any]) -> None:
    for _ in range(100):  # the payment is applied by the worker, a moment after the confirm
        seen = api.get(f"{base}/api/v1/orders/{order['id']}", headers=order["shopper"]).json()
        if seen["status"] == "paid":
            return
        time.sleep(0.1)
    pytest.fail(f"order {order['id']} was not paid")


def test_the_owner_reads_todays_statement_and_downloads_it(
    chromium: Browser, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    store_id = live_server.seed.store_ids["threads"][0]
    api = chromium.new_context().request
    kept = place_and_pay(api, base, store_id)
    gone = place_and_pay(api, base, store_id)
    for order in (kept, gone):
        _paid(api, base, order)
    cancelled = api.post(
        f"{base}/api/v1/orders/{gone['id']}/cancel", data={"reason": ""}, headers=gone["shopper"]
    )
    assert cancelled.ok, cancelled.text()

    page = new_page(chromium, accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, base, "owner@demo.o2o")
    page.goto(f"{base}/merchant?lang=en")
    page.locator(".console-nav a", has_text="Money").click()
    expect(page.locator("h1")).to_have_text("Settlements")
    expect(page.locator(".money-meta")).to_contain_text("Commission 5% (platform default)")
    expect(page.locator(".money-big").first).to_contain_text("¥")
    screenshot(page, "settlements-phone")

    page.locator(".money-row").first.click()
    expect(page.locator("h1")).to_contain_text("Statement for")
    lines = page.locator(".money-line")
    expect(lines.filter(has_text=f"Order #{kept['id']}")).to_have_count(1)
    expect(lines.filter(has_text=f"Order #{gone['id']}")).to_have_count(2)  # sale and refund
    expect(lines.filter(has_text="Cancelled by the customer")).not_to_have_count(0)
    screenshot(page, "statement-phone")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    saved = download.value
    assert saved.suggested_filename.startswith("settlement-")
    text = Path(saved.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["order_id"] for r in rows} >= {str(kept["id"]), str(gone["id"])}
    assert rows[-1]["kind"] == "total"

    page.goto(page.url + ("&" if "?" in page.url else "?") + "lang=zh_CN")
    expect(page.locator("h1")).to_contain_text("对账单")
    expect(lines.filter(has_text="顾客取消")).not_to_have_count(0)
    screenshot(page, "statement-phone-zh")

    page.locator(".crumbs a").click()
    page.get_by_role("link", name="退款").first.click()
    expect(page.locator(".money-line", has_text=f"订单 #{gone['id']}")).to_contain_text("退还佣金")
    screenshot(page, "refunds-phone-zh")

    wide = new_page(chromium, width=1280, height=860)
    wide.context.add_cookies(page.context.cookies())
    wide.goto(f"{base}/merchant/settlements?lang=en")
    expect(wide.locator(".money-figures")).to_contain_text("Commission")
    screenshot(wide, "settlements-desktop")
    assert errors == []
