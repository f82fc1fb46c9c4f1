"""The courier's page in headless Chromium at phone width, in English and Chinese: log in as
the demo courier, go on shift and off again."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.web.conftest import new_page, screenshot
from tests.web.live import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("lang", "on", "off"), [("en", "On shift", "Off shift"),
                                                  ("zh_CN", "在岗", "已下班")])  # fmt: skip
def test_the_demo_courier_goes_on_and_off_shift(
    chromium: Browser, live_server: LiveServer, lang: str, on: str, off: str
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    page = new_page(chromium, width=360, height=780)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/login?lang={lang}")
    page.click("button[data-login='courier@demo.o2o']")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/me$"))
    page.click("a[href='/courier']")
    page.wait_for_url(re.compile(r"/courier$"))
    expect(page.locator("#shift-h")).to_have_text(off)
    page.click("#shift-toggle")
    page.wait_for_url(re.compile(r"/courier$"))
    expect(page.locator("#shift-h")).to_have_text(on)
    screenshot(page, f"courier-{lang}-360")
    page.click("#shift-toggle")
    expect(page.locator("#shift-h")).to_have_text(off)
    assert errors == []
