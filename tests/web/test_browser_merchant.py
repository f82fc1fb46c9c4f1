"""The merchant's stock edit in headless Chromium: log in, change a count in the grid, and see it
persisted and in what shoppers are shown."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.web.conftest import new_page, screenshot
from tests.web.live import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser
SKU = "UT000-BLACK-M"


def test_owner_changes_a_count_and_shoppers_see_it(
    chromium: Browser, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    page = new_page(chromium, width=1280, height=800)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{base}/login?lang=en")
    expect(page.locator(".demo-list")).to_contain_text("owner@demo.o2o")
    page.click("button[data-login='owner@demo.o2o']")
    expect(page.locator("#password")).to_have_value("demo-pass-1")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/me$"))
    expect(page.locator("main")).to_contain_text("Merchant console")

    store_id = live_server.seed.store_ids["threads"][0]
    page.goto(f"{base}/merchant/stores/{store_id}/stock")
    with page.expect_response(lambda r: "/stock?q=" in r.url):
        page.fill("#grid-q", SKU)
    rows = page.locator("tr[data-variant]")
    expect(rows).to_have_count(1)
    variant_id = rows.first.get_attribute("data-variant")
    page.fill(f"#qty-{variant_id}", "17")
    page.click(f"#row-{variant_id} button.save")
    expect(page.locator(f"#row-{variant_id} .saved-note")).to_be_visible()
    expect(page.locator(f"#row-{variant_id} .c-available")).to_have_text("17")
    screenshot(page, "stock-grid-desktop")

    # A bad count is explained in the row and changes nothing.
    page.fill(f"#qty-{variant_id}", "-3")
    page.click(f"#row-{variant_id} button.save")
    expect(page.locator(f"#row-{variant_id} .field-error")).to_be_visible()
    page.reload()
    expect(page.locator(f"#qty-{variant_id}")).to_have_value("17")

    # What shoppers get: the API and the product page.
    store = page.request.get(f"{base}/api/v1/stores/{store_id}").json()
    nearby = page.request.get(
        f"{base}/api/v1/stores/nearby?lat={store['lat']}&lng={store['lng']}"
        f"&radius_m=50&variant_id={variant_id}"
    ).json()
    assert [(s["id"], s["available_qty"]) for s in nearby["items"]] == [(store_id, 17)]
    product = page.request.get(f"{base}/api/v1/variants/by-code/{SKU}").json()["product"]
    page.goto(
        f"{base}/products/{product['id']}?variant={variant_id}"
        f"&lat={store['lat']}&lng={store['lng']}&lang=en"
    )
    expect(page.locator(f'.stock-row[data-store="{store_id}"] .left')).to_have_text("17 left")

    phone = new_page(chromium)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{base}/merchant/stores/{store_id}/stock?q={SKU}")
    expect(phone.locator(f"#qty-{variant_id}")).to_have_value("17")
    screenshot(phone, "stock-grid-phone")
    assert errors == []


def test_a_till_sale_updates_an_open_product_page_at_once(
    chromium: Browser, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    page = new_page(chromium)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    store_id = live_server.seed.store_ids["threads"][1]
    store = page.request.get(f"{base}/api/v1/stores/{store_id}").json()
    product = page.request.get(f"{base}/api/v1/variants/by-code/UT001-WHITE-M").json()["product"]
    # A variant this store has at least two of, so one sale leaves some.
    stocked = None
    for variant in product["variants"]:
        hits = page.request.get(
            f"{base}/api/v1/stores/nearby?lat={store['lat']}&lng={store['lng']}"
            f"&radius_m=30&variant_id={variant['id']}&min_qty=2"
        ).json()["items"]
        if hits:
            stocked = (variant, hits[0]["available_qty"])
            break
    assert stocked is not None
    variant, before = stocked
    page.goto(
        f"{base}/products/{product['id']}?variant={variant['id']}"
        f"&lat={store['lat']}&lng={store['lng']}&lang=en"
    )
    left = page.locator(f'.stock-row[data-store="{store_id}"] .left')
    expect(left).to_have_text(f"{before} left")
    page.wait_for_timeout(300)  # let the live stream subscribe

    token = page.request.post(
        f"{base}/api/v1/auth/token", data={"login": "owner@demo.o2o", "password": "demo-pass-1"}
    ).json()["access_token"]
    sale = page.request.post(
        f"{base}/api/v1/stores/{store_id}/pos-sales",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "till-7-sale-1"},
        data={
            "sale_id": "till-7-sale-1",
            "occurred_at": "2026-11-23T10:00:00+08:00",
            "lines": [{"sku": variant["sku"], "qty": 1}],
        },
    )
    assert sale.status == 201, sale.text()
    expect(left).to_have_text(f"{before - 1} left")  # no reload: pushed by the stream
    assert errors == []
