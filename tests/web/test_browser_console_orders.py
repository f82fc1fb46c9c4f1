"""The console's order side in headless Chromium: an order placed and paid through the API
appears on the open queue without a reload; the clerk accepts it, marks it ready, and hands
it over at the counter by typing its code (as a hardware scanner does), once."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.web.conftest import new_page, screenshot
from tests.web.live import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import APIRequestContext, Browser, Page

pytestmark = pytest.mark.browser
PASSWORD = "demo-pass-1"
SKU = "UT002-BLUE-M"


def bearer(api: APIRequestContext, base: str, login: str) -> dict[str, str]:
    answer = api.post(f"{base}/api/v1/auth/token", data={"login": login, "password": PASSWORD})
    assert answer.ok, answer.text()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def place_and_pay(api: APIRequestContext, base: str, store_id: int) -> dict[str, Any]:
    """What a shopper's app does: stock is counted in, an order placed and paid."""
    clerk = bearer(api, base, "clerk@demo.o2o")
    shopper = bearer(api, base, "shopper@demo.o2o")
    variant = api.get(f"{base}/api/v1/variants/by-code/{SKU}").json()
    counted = api.put(
        f"{base}/api/v1/stores/{store_id}/stock/{variant['id']}",
        data={"on_hand": 20},
        headers=clerk,
    )
    assert counted.ok, counted.text()
    placed = api.post(
        f"{base}/api/v1/orders",
        data={
            "store_id": store_id,
            "fulfilment": "pickup",
            "lines": [{"variant_id": variant["id"], "qty": 2}],
        },
        headers={**shopper, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status == 201, placed.text()
    order: dict[str, Any] = placed.json()
    started = api.post(
        f"{base}/api/v1/orders/{order['id']}/payments", data={"provider": "demo"}, headers=shopper
    )
    assert started.status == 201, started.text()
    payment = started.json()
    confirmed = api.post(
        f"{base}/api/v1/payments/demo/{payment['payment_id']}/confirm",
        data={"token": payment["qr_payload"].split("t=")[1]},
    )
    assert confirmed.ok, confirmed.text()
    return {**order, "shopper": shopper}


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.click(f"button[data-login='{email}']")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/me$"))


def test_queue_updates_live_and_the_counter_hands_over_once(
    chromium: Browser, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    store_id = live_server.seed.store_ids["threads"][0]
    page = new_page(chromium, width=1280, height=860)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, base, "clerk@demo.o2o")
    page.goto(f"{base}/merchant/stores/{store_id}/orders")
    expect(page.locator("#live-state")).to_contain_text("Live")

    # When a shopper orders and pays while the queue is open
    api = chromium.new_context().request
    order = place_and_pay(api, base, store_id)
    card = page.locator(f".col-new #order-{order['id']}")
    # Then it appears in "new", rings, and counts in the title, without a reload
    expect(card.locator("button[data-to=accepted]")).to_be_visible()
    expect(card).to_contain_text("2×")
    expect(page).to_have_title(re.compile(r"^\(\d+\) Orders"))
    expect(page.locator("#queue")).to_have_attribute("data-chimes", re.compile(r"^[1-9]"))
    screenshot(page, "orders-queue-desktop")

    phone = new_page(chromium)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{base}/merchant/stores/{store_id}/orders")
    expect(phone.locator(f"#order-{order['id']}")).to_be_visible()
    screenshot(phone, "orders-queue-phone")

    # The clerk accepts it and marks it ready; the phone follows along by itself
    card.locator("button[data-to=accepted]").click()
    preparing = page.locator(f".col-preparing #order-{order['id']}")
    preparing.locator("button[data-to=ready]").click()
    expect(page.locator(f".col-ready #order-{order['id']}")).to_be_visible()
    expect(phone.locator(f".col-ready #order-{order['id']}")).to_be_visible()
    expect(page).not_to_have_title(re.compile(rf"#{order['id']}"))

    # The pick list prints without the console around it
    page.goto(f"{base}/merchant/stores/{store_id}/orders/{order['id']}/pick-list")
    expect(page.locator("table.pick")).to_contain_text(SKU)
    page.emulate_media(media="print")
    expect(page.locator(".bottombar")).to_be_hidden()
    screenshot(page, "pick-list-print")
    page.emulate_media(media="screen")

    # At the counter the code is typed (lower case, spaces) and Enter pressed
    code = api.get(f"{base}/api/v1/orders/{order['id']}", headers=order["shopper"]).json()
    typed = code["pickup_code"]["display"].lower().replace("-", " ")
    page.goto(f"{base}/merchant/stores/{store_id}/counter")
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type(typed)
    page.keyboard.press("Enter")
    ok = page.locator(".redeem-result.is-ok")
    expect(ok).to_contain_text(f"Hand over order #{order['id']}")
    expect(ok).to_contain_text("2×")
    expect(page.locator("#code")).to_have_value("")
    expect(page.locator("#code")).to_be_focused()
    screenshot(page, "counter-desktop")

    # Typed again: refused, said big and red
    page.keyboard.type(typed)
    page.keyboard.press("Enter")
    refused = page.locator(".redeem-result.is-error")
    expect(refused).to_contain_text("Already redeemed")
    expect(refused).to_contain_text("already_redeemed")

    phone.goto(f"{base}/merchant?lang=en")
    expect(phone.locator(f'a[href="/merchant/stores/{store_id}/counter"]').first).to_be_visible()
    screenshot(phone, "console-stores-phone")
    phone.goto(f"{base}/merchant/stores/{store_id}/counter?lang=zh_CN")
    phone.keyboard.type(typed)
    phone.keyboard.press("Enter")
    expect(phone.locator(".redeem-result.is-error")).to_contain_text("已核销过")
    screenshot(phone, "counter-phone")
    assert errors == []


def test_the_store_delivers_a_delivery_order_with_its_own_staff(
    chromium: Browser, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    from tests.web.test_browser_dispatch import _delivery_order

    base = live_server.url
    store_id = live_server.seed.store_ids["threads"][0]
    api = chromium.new_context().request
    store = api.get(f"{base}/api/v1/stores/{store_id}").json()
    shopper = bearer(api, base, "shopper@demo.o2o")
    assert live_server.database is not None
    database = str(live_server.database)
    orders = [_delivery_order(api, base, store, database=database) for _ in range(2)]
    page = new_page(chromium)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        log_in(page, base, "clerk@demo.o2o")
        for order, lang, label in (
            (orders[0], "en", "Deliver with our own staff"),
            (orders[1], "zh_CN", "由本店员工配送"),
        ):
            page.goto(f"{base}/merchant/stores/{store_id}/orders?lang={lang}")
            card = page.locator(f"#order-{order['id']}")
            card.locator("button[data-to=accepted]").click()
            page.locator(f".col-preparing #order-{order['id']} button[data-to=ready]").click()
            card = page.locator(f".col-ready #order-{order['id']}")
            own = card.locator("button[data-to=own_staff]")
            expect(own).to_have_text(label)
            expect(card.locator("button[data-to=out_for_delivery]")).to_be_visible()
            own.scroll_into_view_if_needed()
            screenshot(page, f"orders-own-staff-{lang}")
            own.click()
            card = page.locator(f".col-ready #order-{order['id']}")
            expect(card).to_have_attribute("data-status", "out_for_delivery")
            expect(card.locator("button[data-to=own_staff]")).to_have_count(0)
            expect(card.locator("button[data-to=delivered]")).to_be_visible()
            tracked = api.get(f"{base}/api/v1/orders/{order['id']}/tracking", headers=shopper)
            assert tracked.ok, tracked.text()
            assert tracked.json()["delivery_status"] == "by_store"
        assert errors == []
    finally:
        page.context.close()
