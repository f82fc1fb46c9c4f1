"""The dispatch board in headless Chromium, at phone width and on a desktop, in English and
Chinese: two couriers on shift show as markers, a paid delivery order as a row (and a new one
appears without a reload), reassigning moves the order to the chosen courier and sending it
back leaves it waiting; the couriers' "seen … ago" ticks without a reload, and a courier
silent past the stale threshold turns stale on the page by itself."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.web.conftest import new_page, screenshot
from tests.web.live import LiveServer
from tests.web.test_browser_console_orders import SKU, bearer, log_in

if TYPE_CHECKING:
    from playwright.sync_api import APIRequestContext, Browser

pytestmark = pytest.mark.browser
METRES_PER_DEGREE_LAT = 111_195.0


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _open_now(database: str, store_id: int) -> Iterator[None]:
    """The store open all day while the block runs (a delivery leaves now, so it must be open
    whatever the hour the tests run at), and its own hours back afterwards."""
    with sqlite3.connect(database, timeout=15) as db:
        hours, exceptions = db.execute(
            "SELECT opening_hours, hours_exceptions FROM stores WHERE id = ?", (store_id,)
        ).fetchone()
        db.execute(
            "UPDATE stores SET opening_hours = ?, hours_exceptions = '{}' WHERE id = ?",
            (json.dumps([[[0, 1440]]] * 7), store_id),
        )
    try:
        yield
    finally:
        with sqlite3.connect(database, timeout=15) as db:
            db.execute(
                "UPDATE stores SET opening_hours = ?, hours_exceptions = ? WHERE id = ?",
                (hours, exceptions, store_id),
            )


def _delivery_order(
    api: APIRequestContext, base: str, store: dict[str, Any], *, database: str
) -> dict[str, Any]:
    """A shopper's delivery order to an address 1 km north of the store, paid."""
    with _open_now(database, store["id"]):
        return _paid_delivery_order(api, base, store)


def _paid_delivery_order(
    api: APIRequestContext, base: str, store: dict[str, Any]
) -> dict[str, Any]:
    clerk = bearer(api, base, "clerk@demo.o2o")
    shopper = bearer(api, base, "shopper@demo.o2o")
    variant = api.get(f"{base}/api/v1/variants/by-code/{SKU}").json()
    counted = api.put(
        f"{base}/api/v1/stores/{store['id']}/stock/{variant['id']}",
        data={"on_hand": 20},
        headers=clerk,
    )
    assert counted.ok, counted.text()
    placed = api.post(
        f"{base}/api/v1/orders",
        data={
            "store_id": store["id"],
            "fulfilment": "delivery",
            "lines": [{"variant_id": variant["id"], "qty": 1}],
            "address": {
                "text": "88 Board Test Road",
                "lat": store["lat"] + 1000 / METRES_PER_DEGREE_LAT,
                "lng": store["lng"],
            },
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
    return order


def _rider_on_shift(
    database: str, *, region_id: int, lat: float, lng: float, on: bool, seen_ago_s: float = 5
) -> int:
    """A simulated rider (no login of its own) on shift beside the store, heard from
    ``seen_ago_s`` seconds ago."""
    seen = (
        (_now() - timedelta(seconds=seen_ago_s))
        .replace(tzinfo=None)
        .strftime("%Y-%m-%d %H:%M:%S.%f")
    )
    with sqlite3.connect(database, timeout=15) as db:
        (rider_id,) = db.execute("SELECT id FROM users WHERE email = 'rider01@demo.o2o'").fetchone()
        db.execute(
            "UPDATE couriers SET on_shift = ?, region_id = ?, last_lat = ?, last_lng = ?,"
            " last_seen_at = ? WHERE user_id = ?",
            (on, region_id, lat, lng, seen, rider_id),
        )
    return int(rider_id)


def test_the_board_shows_couriers_and_orders_and_reassigns(
    chromium: Browser, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    assert live_server.database is not None
    api = chromium.new_context().request
    store_id = live_server.seed.store_ids["threads"][0]
    store = api.get(f"{base}/api/v1/stores/{store_id}").json()
    region_id = store["region_id"]
    courier = bearer(api, base, "courier@demo.o2o")
    me = api.post(
        f"{base}/api/v1/couriers/me/shift",
        data={"on": True, "region_id": region_id},
        headers=courier,
    )
    assert me.ok, me.text()
    courier_id = me.json()["user_id"]
    sent = api.post(
        f"{base}/api/v1/couriers/me/positions",
        data={
            "positions": [
                {"lat": store["lat"] - 0.004, "lng": store["lng"], "at": _now().isoformat()}
            ]
        },
        headers=courier,
    )
    assert sent.ok, sent.text()
    rider_id = _rider_on_shift(
        str(live_server.database),
        region_id=region_id,
        lat=store["lat"] + 0.003,
        lng=store["lng"] + 0.004,
        on=True,
    )
    first = _delivery_order(api, base, store, database=str(live_server.database))

    page = new_page(chromium, width=360, height=780)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        log_in(page, base, "admin@demo.o2o")
        page.locator("a", has_text="Dispatch board").click()
        page.wait_for_url(re.compile(r"/admin/dispatch$"))
        if page.locator("#region-select").input_value() != str(region_id):
            page.select_option("#region-select", str(region_id))
            page.wait_for_url(re.compile(rf"/admin/dispatch\?region={region_id}$"))
        expect(page.locator("#live-state")).to_contain_text("Live")
        row = page.locator(".dispatch-order", has_text=f"Order {first['id']}")
        expect(row).to_be_visible()
        expect(row.locator(".late-badge")).to_be_visible()
        # Both couriers are markers on the map, and listed as on shift.
        expect(page.locator(f".courier-pin [data-courier='{courier_id}']")).to_have_count(1)
        expect(page.locator(f".courier-pin [data-courier='{rider_id}']")).to_have_count(1)
        delivery_id = row.get_attribute("data-delivery")
        expect(page.locator(f".order-pin [data-delivery='{delivery_id}']")).to_have_count(1)
        expect(page.locator(f"#courier-{rider_id}")).to_contain_text("Rider 01")
        screenshot(page, "dispatch-phone")

        # Reassign to the rider, then to the demo courier: the row follows each choice.
        for chosen, name in ((rider_id, "Rider 01"), (courier_id, "Demo Courier")):
            row = page.locator(f"#delivery-{delivery_id}")
            row.locator("select[name=courier_id]").select_option(str(chosen))
            row.locator("form.reassign button").click()
            row = page.locator(f"#delivery-{delivery_id}")
            expect(row).to_have_attribute("data-courier", str(chosen))
            expect(row.locator(".do-courier")).to_have_text(name)
            expect(page.locator(f"#courier-{chosen} .dc-load")).to_have_text("1/3")
        expect(page.locator(f"#courier-{rider_id} .dc-load")).to_have_text("0/3")
        screenshot(page, "dispatch-phone-reassigned")

        # Back to dispatch: the row waits for a courier again, and the courier is free.
        row = page.locator(f"#delivery-{delivery_id}")
        expect(row.locator("form.unassign button")).to_have_text("Back to dispatch")
        row.locator("form.unassign button").click()
        row = page.locator(f"#delivery-{delivery_id}")
        expect(row).to_have_attribute("data-courier", "")
        expect(row).to_contain_text("Waiting for a courier")
        expect(row.locator("form.unassign")).to_have_count(0)
        expect(page.locator(f"#courier-{courier_id} .dc-load")).to_have_text("0/3")
        screenshot(page, "dispatch-phone-sent-back")

        # A new paid order appears without a reload (the region's stream says so).
        second = _delivery_order(api, base, store, database=str(live_server.database))
        expect(page.locator(".dispatch-order", has_text=f"Order {second['id']}")).to_be_visible()

        page.goto(f"{base}/admin/dispatch?region={region_id}&lang=zh_CN")
        expect(page.locator("h1")).to_have_text("调度台")
        expect(page.locator("#open-h")).to_contain_text("未完成订单")
        # In Chinese too: give it to the courier, then send it back.
        row = page.locator(f"#delivery-{delivery_id}")
        row.locator("select[name=courier_id]").select_option(str(courier_id))
        row.locator("form.reassign button").click()
        row = page.locator(f"#delivery-{delivery_id}")
        expect(row).to_have_attribute("data-courier", str(courier_id))
        expect(row.locator("form.unassign button")).to_have_text("退回调度")
        screenshot(page, "dispatch-phone-zh")
        row.locator("form.unassign button").click()
        expect(page.locator(f"#delivery-{delivery_id}")).to_have_attribute("data-courier", "")

        wide = new_page(chromium, width=1280, height=800)
        log_in(wide, base, "admin@demo.o2o")
        wide.goto(f"{base}/admin/dispatch?region={region_id}")
        expect(wide.locator(f"#delivery-{delivery_id}")).to_be_visible()
        expect(wide.locator(".courier-pin")).to_have_count(2)
        screenshot(wide, "dispatch-desktop")
        wide.goto(f"{base}/admin/dispatch?region={region_id}&lang=zh_CN")
        expect(wide.locator("h1")).to_have_text("调度台")
        screenshot(wide, "dispatch-desktop-zh")
        wide.context.close()
        assert errors == []
    finally:
        # Leave the demo as it was: both couriers off shift, holding nothing.
        off = api.post(f"{base}/api/v1/couriers/me/shift", data={"on": False}, headers=courier)
        assert off.ok, off.text()
        _rider_on_shift(
            str(live_server.database),
            region_id=region_id,
            lat=store["lat"],
            lng=store["lng"],
            on=False,
        )
        page.context.close()


@pytest.mark.parametrize(
    ("lang", "seconds", "minutes", "stale"),
    [
        ("en", r"^seen \d+ s ago$", "seen 1 min ago", "Not heard from"),
        ("zh_CN", r"^\d+ 秒前定位$", "1 分钟前定位", "失联"),
    ],
)
def test_seen_times_tick_and_a_silent_courier_turns_stale(
    chromium: Browser, live_server: LiveServer, lang: str, seconds: str, minutes: str, stale: str
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    assert live_server.database is not None
    api = chromium.new_context().request
    store = api.get(f"{base}/api/v1/stores/{live_server.seed.store_ids['threads'][0]}").json()
    region_id = store["region_id"]
    courier = bearer(api, base, "courier@demo.o2o")
    me = api.post(
        f"{base}/api/v1/couriers/me/shift",
        data={"on": True, "region_id": region_id},
        headers=courier,
    )
    assert me.ok, me.text()
    courier_id = me.json()["user_id"]
    sent = api.post(
        f"{base}/api/v1/couriers/me/positions",
        data={"positions": [{"lat": store["lat"], "lng": store["lng"], "at": _now().isoformat()}]},
        headers=courier,
    )
    assert sent.ok, sent.text()
    # The rider was last heard from 4 s short of the stale threshold (120 s).
    rider_id = _rider_on_shift(
        str(live_server.database), region_id=region_id, lat=store["lat"] + 0.002,
        lng=store["lng"], on=True, seen_ago_s=116,
    )  # fmt: skip
    page = new_page(chromium, width=390, height=844)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        log_in(page, base, "admin@demo.o2o")
        page.goto(f"{base}/admin/dispatch?region={region_id}&lang={lang}")
        expect(page.locator("#live-state")).to_have_class(re.compile(r"live-state"))
        fresh = page.locator(f"#courier-{courier_id}")
        silent = page.locator(f"#courier-{rider_id}")
        expect(silent).to_have_attribute("data-state", re.compile(r"^(idle|busy)$"))
        expect(silent.locator(".dc-seen")).to_have_text(minutes)
        # From here on the board reads as "no change": what changes, changes in the page.
        page.route("**/admin/dispatch/board**", lambda route: route.fulfill(status=204))
        seen = fresh.locator(".dc-seen")
        expect(seen).to_have_text(re.compile(seconds))
        first = seen.inner_text()
        expect(seen).not_to_have_text(first, timeout=4000)  # it counts on by itself
        # Past the threshold the rider turns stale: dot, words, row and map marker.
        expect(silent).to_have_attribute("data-state", "stale", timeout=10000)
        expect(silent).to_have_class(re.compile(r"is-stale"))
        expect(silent.locator(".lg-dot")).to_have_class(re.compile(r"cs-stale"))
        expect(silent.locator(".dc-state")).to_have_text(stale)
        expect(page.locator(f".courier-pin.cs-stale [data-courier='{rider_id}']")).to_have_count(1)
        expect(fresh).not_to_have_attribute("data-state", "stale")
        silent.scroll_into_view_if_needed()
        screenshot(page, f"dispatch-stale-{lang}")
        assert errors == []
    finally:
        page.unroute("**/admin/dispatch/board**")
        off = api.post(f"{base}/api/v1/couriers/me/shift", data={"on": False}, headers=courier)
        assert off.ok, off.text()
        _rider_on_shift(
            str(live_server.database), region_id=region_id, lat=store["lat"],
            lng=store["lng"], on=False,
        )  # fmt: skip
        page.context.close()
