"""The shopper's order page in headless Chromium at phone width, in English and Chinese: while a
courier has the delivery, the map shows the store, the door and the courier, and the courier's
marker and the ETA move when the courier's phone sends a position batch."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import select

from o2o.accounts.models import User
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.delivery import assign, couriers
from o2o.merchants.models import Store
from o2o.orders.models import Fulfilment, Order, OrderStatus
from tests.factories import make_user, token_for
from tests.web.conftest import new_page, screenshot
from tests.web.live import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser
METRES_PER_DEGREE_LAT = 111_195.0


def _scene(server: LiveServer) -> dict[str, Any]:
    """A ready delivery order of the demo shopper, held by a courier on shift at its store
    (rows written directly, in a thread with its own loop like the server's seed)."""
    out: dict[str, Any] = {}

    async def build() -> None:
        db = Database.from_url(server.database_url)
        now = utcnow()
        async with db.session() as session:
            shopper = await session.scalar(select(User).where(User.email == "shopper@demo.o2o"))
            assert shopper is not None
            store = await session.get(Store, server.seed.store_ids["threads"][0])
            assert store is not None
            phone = f"139{uuid.uuid4().int % 10**8:08d}"  # one rider per test run
            rider = await make_user(session, is_courier=True, phone=phone, display_name="Li Wei")
            await couriers.set_shift(session, user_id=rider.id, on=True,
                                     region_id=store.region_id)  # fmt: skip
            profile = await couriers.profile(session, user_id=rider.id)
            profile.last_lat, profile.last_lng, profile.last_seen_at = store.lat, store.lng, now
            door = store.lat + 1500 / METRES_PER_DEGREE_LAT
            order = Order(
                checkout_ref=uuid.uuid4().hex[:20], region_id=store.region_id,
                merchant_id=store.merchant_id, store_id=store.id, shopper_id=shopper.id,
                fulfilment=Fulfilment.DELIVERY, status=OrderStatus.READY, currency="CNY",
                subtotal=1000, fee=600, total=1600, address={"text": "12 Home Road"},
                address_lat=door, address_lng=store.lng, distance_m=1500,
                promised_at=now + timedelta(minutes=30), paid_at=now, ready_at=now,
            )  # fmt: skip
            session.add(order)
            await session.flush()
            delivery = await assign.request_delivery(session, order_id=order.id, now=now)
            assert delivery is not None
            assert await assign.claim(session, courier_id=rider.id,
                                      delivery_ids=[delivery.id], now=now)  # fmt: skip
            out.update(order_id=order.id, headers=await token_for(session, rider), phone=phone,
                       store=(store.lat, store.lng), door=door)  # fmt: skip
            await session.commit()
        await db.dispose()

    thread = threading.Thread(target=lambda: asyncio.run(build()))
    thread.start()
    thread.join()
    assert out, "the scene was not built"
    return out


@pytest.mark.parametrize(("lang", "eta"), [("en", "Arrives in about"), ("zh_CN", "分钟后送达")])
def test_the_courier_marker_moves_when_the_courier_sends_positions(
    chromium: Browser, live_server: LiveServer, lang: str, eta: str
) -> None:
    from playwright.sync_api import expect

    scene = _scene(live_server)
    base = live_server.url
    page = new_page(chromium, width=360, height=780)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/login?lang={lang}")
    page.click("button[data-login='shopper@demo.o2o']")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/me$"))

    # The order page: the map with the store, the door and the courier, and the ETA.
    page.goto(f"{base}/orders/{scene['order_id']}")
    page.wait_for_function("document.body.dataset.orderReady === '1'")
    track = page.locator("#track-map")
    expect(track).to_have_attribute("data-stream", f"/orders/{scene['order_id']}/tracking/stream")
    expect(page.locator("#track-map .pin-store")).to_have_count(1)
    expect(page.locator("#track-map .pin-door")).to_have_count(1)
    expect(page.locator("#track-map path.courier-dot")).to_have_count(1)
    masked = f"139****{scene['phone'][-4:]}"
    expect(page.locator("#delivery-courier")).to_contain_text(masked)
    assert scene["phone"] not in page.content()
    expect(page.locator("#track-eta")).to_contain_text(eta)
    before = page.locator("#track-map path.courier-dot").get_attribute("d")
    eta_before = page.locator("#track-eta").inner_text()

    # The courier's phone sends a batch: the last fix is 900 m towards the door.
    lat, lng = scene["store"]
    moved = lat + 900 / METRES_PER_DEGREE_LAT
    fixes = [{"lat": lat + k * 300 / METRES_PER_DEGREE_LAT, "lng": lng,
              "at": (utcnow() - timedelta(seconds=4 - k)).isoformat()}
             for k in (1, 2, 3)]  # fmt: skip
    sent = httpx.post(f"{base}/api/v1/couriers/me/positions", json={"positions": fixes},
                      headers=scene["headers"], timeout=10)  # fmt: skip
    assert sent.status_code == 200, sent.text
    expect(track).to_have_attribute("data-courier-lat", json.dumps(moved))
    after = page.locator("#track-map path.courier-dot").get_attribute("d")
    assert after != before
    expect(page.locator("#track-eta")).not_to_have_text(eta_before)
    screenshot(page, f"order-live-map-{lang}-360")
    assert errors == []
