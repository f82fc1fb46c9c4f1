"""The shopper's path in headless Chromium: city → nearby map and list → store → product →
size and colour → the nearest stores that have it, in English and in Chinese."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.web.conftest import new_page, screenshot
from tests.web.live import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

WORDS = {
    "en": {"nearby": "Nearby", "brand": "Urban Threads", "left": r"^\d+ left$", "open": "Open now"},
    "zh_CN": {"nearby": "附近", "brand": "城市衣橱", "left": r"^剩\d+件$", "open": "营业中"},
}


def is_nearby_call(url: str) -> bool:
    return "/api/v1/stores/nearby" in url


def drag_map(page: Page) -> None:
    box = page.locator("#map").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 120, y - 50, steps=8)
    page.mouse.up()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_shopper_finds_the_nearest_stores_with_a_size_and_colour(
    chromium: Browser, live_server: LiveServer, lang: str
) -> None:
    from playwright.sync_api import expect

    words = WORDS[lang]
    page = new_page(chromium)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # 1. Pick a city.
    page.goto(f"{live_server.url}/?lang={lang}")
    expect(page.locator(".bottombar")).to_contain_text(words["nearby"])
    page.click('[data-region="shanghai"]')
    page.wait_for_url(re.compile(r"/nearby"))

    # 2. The list and the map: cards, pins, and moving the map asks again for its centre.
    cards = page.locator("#store-list .store-card")
    expect(cards.first).to_be_visible()
    expect(page.locator(".leaflet-marker-icon").first).to_be_attached()
    page.wait_for_function("document.body.dataset.nearbyReady === '1'")
    screenshot(page, f"nearby-{lang}-phone")
    with page.expect_response(lambda r: is_nearby_call(r.url) and r.status == 200):
        drag_map(page)
    expect(cards.first).to_be_visible()

    # A tapped card lights up its pin; a tapped pin lights up its card.
    first = cards.first
    first.locator(".meta").click()
    expect(first).to_have_class(re.compile("is-active"))
    expect(page.locator(".pin.is-active")).to_have_count(1)

    # 3. Search for the clothing chain and open one of its stores.
    page.fill("#q", words["brand"])
    with page.expect_response(lambda r: is_nearby_call(r.url) and "q=" in r.url):
        page.press("#q", "Enter")
    expect(cards.first).to_contain_text(words["brand"])
    cards.first.locator(".card-title a").click()
    page.wait_for_url(re.compile(r"/stores/\d+"))
    products = page.locator(".product-list a")
    expect(products.first).to_be_visible()
    products.first.click()
    page.wait_for_url(re.compile(r"/products/\d+"))
    page.wait_for_function("document.body.dataset.productReady === '1'")

    # 4. Pick a size, then a colour that some store nearby has: the list follows.
    size = page.locator("fieldset[data-attr=size] label.chip:not(:has(input:checked))").first
    with page.expect_response(lambda r: "variant_id=" in r.url) as called:
        size.click()
    in_stock = page.locator("fieldset[data-attr=color] label.chip:not(.is-out)")
    expect(in_stock.first).to_be_attached()
    other = page.locator(
        "fieldset[data-attr=color] label.chip:not(.is-out):not(:has(input:checked))"
    )
    if other.count():
        with page.expect_response(lambda r: "variant_id=" in r.url) as called:
            other.first.click()
    colour_value = page.locator("fieldset[data-attr=color] input:checked").get_attribute("value")
    variant_id = re.search(r"variant_id=(\d+)", called.value.url)
    assert variant_id
    rows = page.locator("#stock-list .stock-row")
    expect(rows.first).to_be_visible()
    expect(page.locator("#stock-list")).to_have_attribute("data-variant", variant_id.group(1))
    expect(rows.first.locator(".left")).to_have_text(re.compile(words["left"]))
    assert f"variant={variant_id.group(1)}" in page.url
    assert colour_value
    distances = rows.locator(".dist, .muted.small").all_inner_texts()
    assert distances
    screenshot(page, f"product-{lang}-phone")
    assert errors == []


def test_pages_work_at_desktop_width_without_map_tiles(
    chromium: Browser, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    page = new_page(chromium, width=1280, height=800)
    page.goto(f"{live_server.url}/nearby?region=beijing&lang=en")
    expect(page.locator("#store-list .store-card").first).to_be_visible()
    # Tiles cannot load here; the pins are on the map all the same.
    expect(page.locator(".leaflet-marker-icon").first).to_be_attached()
    pin = page.locator(".leaflet-marker-icon.pin").first
    pin.click()
    expect(page.locator(".store-card.is-active")).to_have_count(1)
    screenshot(page, "nearby-en-desktop")


def test_use_my_location_goes_to_the_nearby_page(
    chromium: Browser, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    page = new_page(
        chromium,
        geolocation={"latitude": 39.9087, "longitude": 116.3975},
        permissions=["geolocation"],
    )
    page.goto(f"{live_server.url}/?change=1&lang=en")
    page.click("#use-location")
    page.wait_for_url(re.compile(r"/nearby\?lat="))
    expect(page.locator(".city-chip")).to_contain_text("Beijing")
    expect(page.locator("#position-label")).to_have_text("Near you")
