"""The console's order side over HTTP: the queue, moving orders on, the pick list, the counter.

Orders are placed and paid through the API (as a shopper's app would); staff act through the
pages, with the forms' CSRF token, as HTMX sends them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from o2o.core.clock import utcnow
from o2o.delivery import assign
from o2o.delivery.models import Courier, Delivery
from o2o.redemption import codes
from tests.delivery.live_scene import make_courier, on_shift_at, paid_delivery
from tests.factories import make_staff, make_store
from tests.orders.scene import OrderScene, make_scene, pay, place
from tests.web.conftest import csrf_of, log_in


@dataclass
class Counter:
    scene: OrderScene
    store_url: str
    token: str


async def staff_client(client: httpx.AsyncClient, email: str, store_id: int) -> str:
    """Log in and return the CSRF token of the store's counter page (its form is always there)."""
    await log_in(client, email)
    page = await client.get(f"/merchant/stores/{store_id}/counter")
    assert page.status_code == 200, page.text[:300]
    return csrf_of(page.text)


async def paid_order(client: httpx.AsyncClient, app: FastAPI, scene: OrderScene) -> dict[str, Any]:
    placed = await place(client, scene, lines=[(scene.variants[1].id, 2)])
    assert placed.status_code == 201, placed.text
    return await pay(client, app, scene, placed.json()["id"])


def hx(token: str) -> dict[str, str]:
    return {"HX-Request": "true", "X-CSRF-Token": token}


def column(html: str, key: str) -> str:
    """The HTML of one board column."""
    found = re.search(rf'<section class="column col-{key}".*?</section>', html, re.S)
    assert found, key
    return found.group(0)


@pytest.fixture
async def scene(session: AsyncSession) -> OrderScene:
    return await make_scene(session)


@pytest.mark.parametrize(
    ("lang", "words"), [("en", ("New", "Counter")), ("zh_CN", ("新订单", "核销台"))]
)
async def test_order_pages_render_in_both_languages(
    client: httpx.AsyncClient, app: FastAPI, scene: OrderScene, lang: str, words: tuple[str, ...]
) -> None:
    order = await paid_order(client, app, scene)
    await log_in(client, scene.clerk.email)
    base = f"/merchant/stores/{scene.store.id}"
    for path in (
        f"{base}/orders",
        f"{base}/orders/board",
        f"{base}/counter",
        f"{base}/orders/{order['id']}/pick-list",
        "/merchant/orders",
        "/merchant/counter",
    ):
        r = await client.get(f"{path}?lang={lang}")
        assert r.status_code in (200, 303), (path, r.text[:300])
        if r.status_code == 200:
            assert words[0] in r.text or words[1] in r.text, path
    queue = await client.get(f"{base}/orders?lang={lang}")
    assert all(word in queue.text for word in words)


async def test_a_paid_order_moves_through_the_queue(
    client: httpx.AsyncClient, app: FastAPI, scene: OrderScene
) -> None:
    # Given a paid pickup order
    order = await paid_order(client, app, scene)
    token = await staff_client(client, scene.clerk.email, scene.store.id)
    base = f"/merchant/stores/{scene.store.id}/orders"
    board = (await client.get(f"{base}/board?lang=en")).text
    # Then it waits in "new" with the steps the state machine allows, and counts as waiting
    new = column(board, "new")
    assert f'id="order-{order["id"]}"' in new
    assert 'data-waiting="1"' in new
    assert 'data-to="accepted"' in new
    assert 'data-to="rejected"' in new
    assert 'data-to="ready"' not in new
    assert 'id="board" class="board" data-waiting="1"' in board
    assert "2×" in new
    assert "Pickup " in new  # the pickup window
    assert f"{base}/{order['id']}/pick-list" in new

    # When the clerk accepts it (HTMX)
    url = f"{base}/{order['id']}/transitions"
    r = await client.post(url, data={"to": "accepted"}, headers=hx(token))
    assert r.status_code == 200, r.text
    assert f'id="order-{order["id"]}"' in column(r.text, "preparing")
    assert 'data-waiting="0"' in r.text
    # A step the state machine does not allow is explained, and nothing changes
    again = await client.post(url, data={"to": "accepted"}, headers=hx(token))
    assert again.status_code == 409
    assert "not possible for this order any more" in again.text
    # Without HTMX the form redirects back to the queue
    plain = await client.post(url, data={"to": "ready", "csrf_token": token})
    assert plain.status_code == 303
    assert plain.headers["location"] == base
    ready = (await client.get(f"{base}/board")).text
    assert f'id="order-{order["id"]}"' in column(ready, "ready")
    api = await client.get(f"/api/v1/orders/{order['id']}", headers=scene.shopper_headers)
    assert api.json()["status"] == "ready"


async def test_rejecting_needs_a_reason(
    client: httpx.AsyncClient, app: FastAPI, scene: OrderScene
) -> None:
    order = await paid_order(client, app, scene)
    token = await staff_client(client, scene.clerk.email, scene.store.id)
    url = f"/merchant/stores/{scene.store.id}/orders/{order['id']}/transitions"
    r = await client.post(url, data={"to": "rejected", "reason": "  "}, headers=hx(token))
    assert r.status_code == 409
    assert "Say why the order is rejected" in r.text
    r = await client.post(url, data={"to": "rejected", "reason": "Sold out"}, headers=hx(token))
    assert r.status_code == 200
    assert f'id="order-{order["id"]}"' not in r.text  # gone from the queue
    api = await client.get(f"/api/v1/orders/{order['id']}", headers=scene.shopper_headers)
    assert (api.json()["status"], api.json()["reason"]) == ("rejected", "Sold out")
    assert api.json()["refunded"] == api.json()["total"]


async def test_posts_need_the_csrf_token(
    client: httpx.AsyncClient, app: FastAPI, scene: OrderScene
) -> None:
    order = await paid_order(client, app, scene)
    await staff_client(client, scene.clerk.email, scene.store.id)
    base = f"/merchant/stores/{scene.store.id}"
    r = await client.post(f"{base}/orders/{order['id']}/transitions", data={"to": "accepted"})
    assert r.status_code == 403
    r = await client.post(f"{base}/counter", data={"code": order["pickup_code"]["code"]})
    assert r.status_code == 403


async def test_pick_list_has_sku_barcode_and_quantity(
    client: httpx.AsyncClient, app: FastAPI, scene: OrderScene
) -> None:
    order = await paid_order(client, app, scene)
    await log_in(client, scene.clerk.email)
    r = await client.get(f"/merchant/stores/{scene.store.id}/orders/{order['id']}/pick-list")
    assert r.status_code == 200
    variant = scene.variants[1]
    assert variant.sku in r.text
    assert (variant.barcode or "—") in r.text
    assert '<td class="c-num pl-qty">2</td>' in r.text
    assert "@media print" not in r.text  # print rules live in the stylesheet
    missing = await client.get(f"/merchant/stores/{scene.store.id}/orders/999999/pick-list")
    assert missing.status_code == 404


async def test_counter_hands_over_once(
    client: httpx.AsyncClient, app: FastAPI, scene: OrderScene
) -> None:
    order = await paid_order(client, app, scene)
    code = order["pickup_code"]
    token = await staff_client(client, scene.clerk.email, scene.store.id)
    url = f"/merchant/stores/{scene.store.id}/counter"
    # Typed in lower case with spaces instead of dashes
    typed = " " + code["display"].lower().replace("-", " ") + " "
    r = await client.post(url, data={"code": typed}, headers=hx(token))
    assert r.status_code == 200, r.text
    assert f"Hand over order #{order['id']}" in r.text
    assert 'data-outcome="ok"' in r.text
    assert "2×" in r.text
    api = await client.get(f"/api/v1/orders/{order['id']}", headers=scene.shopper_headers)
    assert api.json()["status"] == "collected"
    # Again: refused, and when it was used is said
    again = await client.post(url, data={"code": code["code"]}, headers=hx(token))
    assert again.status_code == 409
    assert 'data-outcome="already_redeemed"' in again.text
    assert "Already redeemed" in again.text
    assert re.search(r"used on \d{4}-\d\d-\d\d \d\d:\d\d", again.text)
    zh = await client.post(f"{url}?lang=zh_CN", data={"code": code["code"]}, headers=hx(token))
    assert "已核销过" in zh.text
    # Without HTMX the whole counter page comes back with the result
    page = await client.post(url, data={"code": code["code"], "csrf_token": token})
    assert page.status_code == 409
    assert 'id="code"' in page.text
    assert "already_redeemed" in page.text


@pytest.mark.parametrize("text", ["hello", "", "ABCD-EFGH-Z", "new"])
async def test_counter_explains_unknown_codes(
    client: httpx.AsyncClient, scene: OrderScene, text: str
) -> None:
    token = await staff_client(client, scene.clerk.email, scene.store.id)
    sent = codes.display(codes.new_code()) if text == "new" else text
    r = await client.post(
        f"/merchant/stores/{scene.store.id}/counter?lang=en", data={"code": sent}, headers=hx(token)
    )
    assert r.status_code == 404
    assert 'data-outcome="unknown_code"' in r.text
    assert "Unknown code" in r.text


async def test_counter_refuses_another_stores_code_and_void_codes(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    elsewhere = await make_scene(session)
    theirs = await paid_order(client, app, elsewhere)
    cancelled = await paid_order(client, app, scene)
    r = await client.post(
        f"/api/v1/orders/{cancelled['id']}/cancel",
        json={"reason": "changed my mind"},
        headers=scene.shopper_headers,
    )
    assert r.status_code == 200, r.text
    token = await staff_client(client, scene.clerk.email, scene.store.id)
    url = f"/merchant/stores/{scene.store.id}/counter"
    r = await client.post(url, data={"code": theirs["pickup_code"]["code"]}, headers=hx(token))
    assert r.status_code == 403
    assert 'data-outcome="code_of_another_store"' in r.text
    r = await client.post(url, data={"code": cancelled["pickup_code"]["code"]}, headers=hx(token))
    assert r.status_code == 409
    assert 'data-outcome="code_void"' in r.text
    # The other store's order was not touched
    api = await client.get(f"/api/v1/orders/{theirs['id']}", headers=elsewhere.shopper_headers)
    assert api.json()["status"] == "paid"


async def test_staff_of_another_store_get_403(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    order = await paid_order(client, app, scene)
    other = await make_store(session, merchant=scene.merchant, region=scene.region)
    clerk, _ = await make_staff(
        session, merchant=scene.merchant, role=MemberRole.CLERK, store_ids=[other.id]
    )
    await session.commit()
    token = await staff_client(client, clerk.email, other.id)
    base = f"/merchant/stores/{scene.store.id}"
    for path in (
        f"{base}/orders",
        f"{base}/orders/board",
        f"{base}/orders/stream",
        f"{base}/orders/{order['id']}/pick-list",
        f"{base}/counter",
    ):
        r = await client.get(path)
        assert r.status_code == 403, path
        assert "have access to this" in r.text
    r = await client.post(
        f"{base}/orders/{order['id']}/transitions", data={"to": "accepted"}, headers=hx(token)
    )
    assert r.status_code == 403
    r = await client.post(
        f"{base}/counter", data={"code": order["pickup_code"]["code"]}, headers=hx(token)
    )
    assert r.status_code == 403
    # Their own store's pages are theirs, and the console lists only that store
    assert (await client.get(f"/merchant/stores/{other.id}/counter")).status_code == 200
    pick = await client.get("/merchant/orders")
    assert pick.status_code == 303
    assert pick.headers["location"] == f"/merchant/stores/{other.id}/orders"
    api = await client.get(f"/api/v1/orders/{order['id']}", headers=scene.shopper_headers)
    assert api.json()["status"] == "paid"


@pytest.mark.parametrize(
    ("lang", "label"), [("en", "Deliver with our own staff"), ("zh_CN", "由本店员工配送")]
)
async def test_the_store_delivers_with_its_own_staff_from_the_queue(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, lang: str, label: str
) -> None:
    scene = await make_scene(session)
    # A paid delivery order, held by a courier on shift, and a pickup order: both ready.
    rider = await make_courier(session)
    await on_shift_at(client, rider, scene.store, region_id=scene.region.id)
    delivery_order = await paid_delivery(client, app, scene)
    pickup_order = await paid_order(client, app, scene)
    held = await session.scalar(select(Delivery).where(Delivery.order_id == delivery_order["id"]))
    assert held is not None
    assert await assign.claim(session, courier_id=rider.user.id, delivery_ids=[held.id],
                              now=utcnow())  # fmt: skip
    await session.commit()
    token = await staff_client(client, scene.clerk.email, scene.store.id)
    base = f"/merchant/stores/{scene.store.id}/orders"
    for order in (delivery_order, pickup_order):
        for to in ("accepted", "ready"):
            r = await client.post(
                f"{base}/{order['id']}/transitions", data={"to": to}, headers=hx(token)
            )
            assert r.status_code == 200, r.text
    board = (await client.get(f"{base}/board?lang={lang}")).text
    ready = column(board, "ready")
    card = re.search(rf'<article[^>]*id="order-{delivery_order["id"]}".*?</article>', ready, re.S)
    assert card is not None
    assert 'data-to="own_staff"' in card.group(0)
    assert label in card.group(0)
    other = re.search(rf'<article[^>]*id="order-{pickup_order["id"]}".*?</article>', ready, re.S)
    assert other is not None
    assert 'data-to="own_staff"' not in other.group(0)  # only a delivery order has it

    # The clerk presses it: out for delivery with the store's staff, the courier freed.
    r = await client.post(
        f"{base}/{delivery_order['id']}/transitions",
        data={"to": "out_for_delivery", "own_staff": "true", "lang": lang},
        headers=hx(token),
    )
    assert r.status_code == 200, r.text
    gone = await session.get(Delivery, held.id, populate_existing=True)
    assert gone is not None
    assert (gone.status, gone.courier_id) == ("by_store", None)
    courier = await session.get(Courier, rider.user.id, populate_existing=True)
    assert courier is not None
    assert courier.open_count == 0
    order = await client.get(
        f"/api/v1/orders/{delivery_order['id']}", headers=scene.shopper_headers
    )
    assert order.json()["status"] == "out_for_delivery"
    after = re.search(rf'<article[^>]*id="order-{delivery_order["id"]}".*?</article>', r.text, re.S)
    assert after is not None
    assert 'data-to="own_staff"' not in after.group(0)  # done: only "delivered" is left
