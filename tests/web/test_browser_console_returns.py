"""The returns desk in headless Chromium: an order placed, paid and collected through the
API is found on the Returns page by its number, and one unit is taken back for a refund."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from tests.web.conftest import new_page, screenshot
from tests.web.live import LiveServer
from tests.web.test_browser_console_orders import bearer, log_in, place_and_pay

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


def test_one_unit_comes_back_for_a_refund(chromium: Browser, live_server: LiveServer) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    store_id = live_server.seed.store_ids["threads"][0]
    api = chromium.new_context().request
    order = place_and_pay(api, base, store_id)
    owner = bearer(api, base, "owner@demo.o2o")
    code: dict[str, Any] = {}
    for _ in range(100):  # the payment is applied by the worker, a moment after the confirm
        code = api.get(f"{base}/api/v1/orders/{order['id']}", headers=order["shopper"]).json()
        if code.get("pickup_code"):
            break
        time.sleep(0.1)
    redeemed = api.post(
        f"{base}/api/v1/stores/{store_id}/redemptions",
        data={"code": code["pickup_code"]["code"]},
        headers=owner,
    )
    assert redeemed.ok, redeemed.text()

    page = new_page(chromium, width=1280, height=900)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, base, "owner@demo.o2o")
    page.goto(f"{base}/merchant/stores/{store_id}/returns?lang=en")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type(str(order["id"]))
    page.keyboard.press("Enter")
    desk = page.locator(f"#desk-order-{order['id']}")
    expect(desk).to_contain_text("Can be returned until")
    expect(desk).to_contain_text("Bought 2 · returned 0")
    desk.locator("input[name=qty]").fill("1")
    desk.locator("input[name=reason]").fill("does not fit")
    screenshot(page, "returns-desk-desktop")
    desk.locator("button[type=submit]").click()
    done = page.locator(".desk-result.is-ok")
    expect(done).to_contain_text("Refunded ¥")
    expect(done).to_contain_text("Refund #")
    expect(page.locator(f"#desk-order-{order['id']}")).to_contain_text("Bought 2 · returned 1")
    screenshot(page, "returns-done-desktop")

    phone = new_page(chromium)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{base}/merchant/stores/{store_id}/returns?q={order['id']}&lang=zh_CN")
    expect(phone.locator(f"#desk-order-{order['id']}")).to_contain_text("已退 1 件")
    screenshot(phone, "returns-desk-phone")
    assert errors == []
