"""The console's returns desk over HTTP: find an order by its pickup code or number, take
units back for a refund or exchange them, once per form, and every refusal said in words.

Orders are placed, paid and collected through the API; staff act through the page, with
the form's CSRF token and one-time key, as HTMX sends them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from o2o.core.clock import utcnow
from o2o.orders.models import Order
from tests.factories import make_staff, make_store
from tests.inventory.scene import level_of
from tests.orders.returns_scene import collected_order
from tests.orders.scene import OrderScene, make_scene
from tests.web.conftest import csrf_of, log_in

PRICE = 19900


def hx(token: str) -> dict[str, str]:
    return {"HX-Request": "true", "HX-Target": "desk", "X-CSRF-Token": token}


def form_of(html: str, order_id: int) -> dict[str, Any]:
    """The desk form's fields for one order: its one-time key and its lines."""
    section = re.search(
        rf'<section class="panel desk-order" id="desk-order-{order_id}".*?</section>', html, re.S
    )
    assert section, html[:500]
    text = section.group(0)
    key = re.search(r'name="form_key" value="([^"]+)"', text)
    assert key
    return {
        "form_key": key.group(1),
        "lines": [int(x) for x in re.findall(r'name="line" value="(\d+)"', text)],
        "html": text,
    }


@pytest.fixture
async def scene(session: AsyncSession) -> OrderScene:
    return await make_scene(session)


async def desk_page(
    client: httpx.AsyncClient, scene: OrderScene, q: str, lang: str = "en"
) -> httpx.Response:
    r = await client.get(
        f"/merchant/stores/{scene.store.id}/returns", params={"q": q, "lang": lang}
    )
    assert r.status_code == 200, r.text[:300]
    return r


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", ("Returns", "Can be returned until")), ("zh_CN", ("退换货", "可退换至"))],
)
async def test_lookup_by_pickup_code_and_by_number(
    client: httpx.AsyncClient, app: FastAPI, scene: OrderScene, lang: str, words: tuple[str, str]
) -> None:
    m = scene.variants[1]
    order = await collected_order(client, app, scene, [(m.id, 2)])
    await log_in(client, scene.clerk.email)
    code = order["pickup_code"]["display"].lower().replace("-", " ")
    by_code = await desk_page(client, scene, code, lang)
    by_number = await desk_page(client, scene, f"#{order['id']}", lang)
    for page in (by_code, by_number):
        assert all(w in page.text for w in words)
        desk = form_of(page.text, order["id"])
        assert desk["lines"] == [order["lines"][0]["id"]]
        assert 'max="2"' in desk["html"]
        # The other sizes at the same price, with their stock here, to exchange for
        assert re.search(r">S · [^<]*— 10 (available|件可用)<", desk["html"])
        assert re.search(r">L · [^<]*— 10 (available|件可用)<", desk["html"])
    assert "Bought 2 · returned 0" in by_number.text or "购买 2" in by_number.text
    # Nothing found: said so, and how to go on
    none = await desk_page(client, scene, "999999999", lang)
    assert 'data-outcome="not_found"' in none.text
    # The navigation leads here
    assert (
        f'href="/merchant/stores/{scene.store.id}/returns"'
        in (await client.get(f"/merchant?lang={lang}")).text
    )
    picked = await client.get("/merchant/returns")
    assert picked.status_code in (200, 303)


async def test_a_partial_return_refunds_and_restocks_once(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    # Given a collected order of 2 M
    m = scene.variants[1]
    order = await collected_order(client, app, scene, [(m.id, 2)])
    await log_in(client, scene.clerk.email)
    page = await desk_page(client, scene, str(order["id"]))
    token = csrf_of(page.text)
    desk = form_of(page.text, order["id"])
    before = await level_of(session, scene.store, m.id)

    # When the clerk takes one back for a refund, restocked
    data = {
        "order_id": order["id"],
        "form_key": desk["form_key"],
        "line": desk["lines"],
        "qty": [1],
        "do": ["return"],
        "reason": "does not fit",
        "restock": "true",
    }
    url = f"/merchant/stores/{scene.store.id}/returns?lang=en"
    r = await client.post(url, data=data, headers=hx(token))

    # Then the refund is shown, the unit is back on the shelf, and the order says so
    assert r.status_code == 200, r.text
    assert 'data-outcome="ok"' in r.text
    assert "Refunded ¥199" in r.text
    assert re.search(r"Refund #\d+", r.text)
    assert "Back on this store&#39;s shelf." in r.text or "Back on this store's shelf." in r.text
    assert "Bought 2 · returned 1" in r.text
    assert await level_of(session, scene.store, m.id) == (before[0] + 1, before[1])
    db = await session.get(Order, order["id"], populate_existing=True)
    assert db is not None
    assert db.refunded == PRICE

    # A double submit of the same form is answered with the same outcome, refunding nothing more
    again = await client.post(url, data=data, headers=hx(token))
    assert again.status_code == 200
    assert "Refunded ¥199" in again.text
    db = await session.get(Order, order["id"], populate_existing=True)
    assert db is not None
    assert db.refunded == PRICE
    assert await level_of(session, scene.store, m.id) == (before[0] + 1, before[1])

    # The earlier return is listed; the last unit can be exchanged for an L, no money moves
    page = await desk_page(client, scene, str(order["id"]))
    assert "Earlier returns" in page.text
    assert "does not fit" in page.text
    desk = form_of(page.text, order["id"])
    large = scene.variants[2]
    r = await client.post(
        url,
        data={**data, "form_key": desk["form_key"], "do": [str(large.id)], "reason": "too small"},
        headers=hx(token),
    )
    assert r.status_code == 200, r.text
    assert "Exchange done" in r.text
    assert large.sku in r.text
    db = await session.get(Order, order["id"], populate_existing=True)
    assert db is not None
    assert db.refunded == PRICE
    assert await level_of(session, scene.store, large.id) == (9, 0)


async def test_refusals_are_shown_in_words_and_change_nothing(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    m = scene.variants[1]
    order = await collected_order(client, app, scene, [(m.id, 1)])
    await log_in(client, scene.clerk.email)
    page = await desk_page(client, scene, str(order["id"]))
    token = csrf_of(page.text)
    desk = form_of(page.text, order["id"])
    url = f"/merchant/stores/{scene.store.id}/returns"
    base = {
        "order_id": order["id"],
        "form_key": desk["form_key"],
        "line": desk["lines"],
        "do": ["return"],
        "restock": "true",
    }

    # More than was bought
    r = await client.post(
        f"{url}?lang=en", data={**base, "qty": [2], "reason": "x"}, headers=hx(token)
    )
    assert r.status_code == 409
    assert 'data-outcome="return_exceeds_quantity"' in r.text
    assert "Only 1 unit of that line is left to take back" in r.text
    zh = await client.post(
        f"{url}?lang=zh_CN", data={**base, "qty": [2], "reason": "x"}, headers=hx(token)
    )
    assert zh.status_code == 409
    assert "超过可退数量" in zh.text
    # No reason: the form comes back with what was typed
    r = await client.post(
        f"{url}?lang=en", data={**base, "qty": [1], "reason": " "}, headers=hx(token)
    )
    assert r.status_code == 422
    assert "Say why the items come back" in r.text
    assert 'value="1"' in form_of(r.text, order["id"])["html"]
    # Out of the return window
    await session.execute(
        update(Order).where(Order.id == order["id"]).values(closed_at=utcnow() - timedelta(days=31))
    )
    await session.commit()
    r = await client.post(
        f"{url}?lang=en", data={**base, "qty": [1], "reason": "x"}, headers=hx(token)
    )
    assert r.status_code == 409
    assert "The time to return this order has passed" in r.text
    assert re.search(r"could be returned until \d{4}-\d\d-\d\d \d\d:\d\d", r.text)
    zh = await client.post(
        f"{url}?lang=zh_CN", data={**base, "qty": [1], "reason": "x"}, headers=hx(token)
    )
    assert "退换期限已过" in zh.text
    # An order of another merchant: refused, and not shown
    elsewhere = await make_scene(session)
    theirs = await collected_order(client, app, elsewhere, [(elsewhere.variants[0].id, 1)])
    r = await client.post(
        f"{url}?lang=en",
        data={
            **base,
            "order_id": theirs["id"],
            "line": [theirs["lines"][0]["id"]],
            "qty": [1],
            "reason": "x",
        },
        headers=hx(token),
    )
    assert r.status_code == 403
    assert 'data-outcome="store_of_another_merchant"' in r.text
    assert f"desk-order-{theirs['id']}" not in r.text
    assert (await desk_page(client, scene, str(theirs["id"]))).text.count("desk-order-") == 0
    # Nothing moved
    db = await session.get(Order, order["id"], populate_existing=True)
    assert db is not None
    assert db.refunded == 0


async def test_clerk_of_another_store_gets_403_and_posts_need_csrf(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    m = scene.variants[1]
    order = await collected_order(client, app, scene, [(m.id, 1)])
    other = await make_store(session, merchant=scene.merchant, region=scene.region)
    clerk, _ = await make_staff(
        session, merchant=scene.merchant, role=MemberRole.CLERK, store_ids=[other.id]
    )
    await session.commit()
    await log_in(client, clerk.email)
    mine = await client.get(f"/merchant/stores/{other.id}/returns?q={order['id']}")
    assert mine.status_code == 200  # any store of the merchant takes its orders back
    token = csrf_of(mine.text)
    url = f"/merchant/stores/{scene.store.id}/returns"
    r = await client.get(f"{url}?q={order['id']}")
    assert r.status_code == 403
    assert "have access to this" in r.text
    data = {
        "order_id": order["id"],
        "form_key": "k" * 24,
        "line": [order["lines"][0]["id"]],
        "qty": [1],
        "do": ["return"],
        "reason": "x",
        "restock": "true",
    }
    r = await client.post(url, data=data, headers=hx(token))
    assert r.status_code == 403
    # Without the CSRF token even their own store refuses the post
    r = await client.post(f"/merchant/stores/{other.id}/returns", data=data)
    assert r.status_code == 403
    db = await session.get(Order, order["id"], populate_existing=True)
    assert db is not None
    assert db.refunded == 0
