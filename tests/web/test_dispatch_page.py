"""The admin console's dispatch board over HTTP: the page with its region picker, couriers
and open orders; the board fragment the page reloads; reassignment by form (page and HTMX)
and its refusal in the page's language; English and Chinese; platform admins only."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.delivery.models import Courier, Delivery
from tests.delivery.live_scene import make_courier, on_shift_at, paid_delivery
from tests.factories import make_region, make_user
from tests.orders.scene import make_scene
from tests.web.conftest import csrf_of, log_in

URL = "/admin/dispatch"


def _markers(html: str) -> dict[str, list[dict[str, object]]]:
    found = re.search(r'<script type="application/json" id="board-data">(.*?)</script>', html)
    assert found, "the board carries no markers' data"
    data: dict[str, list[dict[str, object]]] = json.loads(found.group(1))
    return data


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ("Dispatch board", "Open orders", "Couriers on shift", "Waiting for a courier")),
        ("zh_CN", ("调度台", "未完成订单", "在岗骑手", "等待骑手")),
    ],
)
async def test_admins_see_the_board_and_reassign_from_it(
    client: httpx.AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    lang: str,
    words: tuple[str, ...],
) -> None:
    scene = await make_scene(session)
    first = await make_courier(session, display_name="Rider One")
    second = await make_courier(session, display_name="Rider Two")
    for courier in (first, second):
        await on_shift_at(client, courier, scene.store, region_id=scene.region.id, north_m=200)
    order = await paid_delivery(client, app, scene)
    delivery = await session.scalar(select(Delivery).where(Delivery.order_id == order["id"]))
    assert delivery is not None
    admin = await make_user(session, is_platform_admin=True)
    await session.commit()
    await log_in(client, admin.email)

    page = await client.get(URL, params={"lang": lang})  # the first region, unasked
    assert page.status_code == 200, page.text[:300]
    for word in words:
        assert word in page.text, word
    assert f'id="delivery-{delivery.id}"' in page.text
    assert f'id="courier-{first.user.id}"' in page.text
    assert "Rider Two · 0/3" in page.text
    assert f'<option value="{scene.region.id}" selected>' in page.text
    assert "/static/vendor/leaflet/leaflet.js" in page.text
    markers = _markers(page.text)
    assert {c["id"] for c in markers["couriers"]} == {first.user.id, second.user.id}
    assert {c["state"] for c in markers["couriers"]} == {"idle"}
    assert [o["id"] for o in markers["orders"]] == [delivery.id]
    assert markers["orders"][0]["lateness"] == "on_time"
    # What the page's clock needs to tick the couriers' "seen … ago" and turn them stale.
    assert 'data-stale-after="120"' in page.text
    assert re.search(r'data-now="\d{4}-\d\d-\d\dT[^"]+"', page.text)
    seen = re.search(rf'id="courier-{first.user.id}".*?class="dc-seen"[^>]*data-at="([^"]+)"',
                     page.text, re.S)  # fmt: skip
    assert seen, "the courier's last position carries its time"
    assert 'data-t-seconds="' in page.text
    assert 'data-t-minutes="' in page.text

    # Without scripts: the form posts and the page comes back.
    token = csrf_of(page.text)
    form = {"courier_id": str(first.user.id), "region": str(scene.region.id), "csrf_token": token}
    given = await client.post(f"{URL}/deliveries/{delivery.id}/reassign", data=form)
    assert (given.status_code, given.headers["location"]) == (
        303,
        f"{URL}?region={scene.region.id}",
    )
    # With HTMX: the refreshed board, the order with the new courier.
    moved = await client.post(
        f"{URL}/deliveries/{delivery.id}/reassign",
        data={**form, "courier_id": str(second.user.id)},
        headers={"HX-Request": "true"},
    )
    assert moved.status_code == 200
    assert moved.text.lstrip().startswith('<div id="board"')
    assert "just-moved" in moved.text
    assert f'data-courier="{second.user.id}"' in moved.text
    markers = _markers(moved.text)
    assert markers["orders"][0]["courier"] == second.user.id
    counts = {
        c.user_id: c.open_count
        for c in await session.scalars(
            select(Courier)
            .where(Courier.user_id.in_([first.user.id, second.user.id]))
            .execution_options(populate_existing=True)
        )
    }
    assert counts == {first.user.id: 0, second.user.id: 1}

    # Refused: the courier went off shift meanwhile; said in the page's language.
    off = await client.post("/api/v1/couriers/me/shift", json={"on": False}, headers=first.headers)
    assert off.status_code == 200
    refused = await client.post(
        f"{URL}/deliveries/{delivery.id}/reassign",
        data={**form, "lang": lang},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 409
    expected = "That courier has gone off shift." if lang == "en" else "该骑手已下班。"
    assert expected in refused.text
    fragment = await client.get(f"{URL}/board", params={"region": scene.region.id})
    assert fragment.status_code == 200
    assert f'id="courier-{first.user.id}"' not in fragment.text  # off shift: off the board


async def test_only_admins_and_unknown_regions(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    region = await make_region(session)
    someone = await make_user(session)
    await session.commit()
    assert (await client.get(URL)).status_code in (303, 401)  # not logged in
    await log_in(client, someone.email)
    assert (await client.get(URL)).status_code == 403
    assert (await client.get(f"{URL}/board", params={"region": region.id})).status_code == 403
    assert (await client.get(f"{URL}/stream", params={"region": region.id})).status_code == 403
    me = await client.get("/me")
    assert "/admin/dispatch" not in me.text

    admin = await make_user(session, is_platform_admin=True)
    await session.commit()
    client.cookies.clear()  # log out
    await log_in(client, admin.email)
    assert 'href="/admin/dispatch"' in (await client.get("/me")).text
    assert (await client.get(URL, params={"region": 987654321})).status_code == 404
    empty = await client.get(URL, params={"region": region.id})
    assert empty.status_code == 200
    assert "No open delivery orders in this region right now." in empty.text
    assert "No courier is on shift in this region." in empty.text
    recon = await client.get("/admin/reconciliation")
    assert 'href="/admin/dispatch"' in recon.text  # the admin pages link each other


@pytest.mark.parametrize(
    ("lang", "button", "refusal"),
    [
        ("en", "Back to dispatch", "The courier has picked the order up already."),
        ("zh_CN", "退回调度", "骑手已取货。"),
    ],
)
async def test_an_admin_sends_a_held_delivery_back_to_dispatch(
    client: httpx.AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    lang: str,
    button: str,
    refusal: str,
) -> None:
    scene = await make_scene(session)
    rider = await make_courier(session, display_name="Rider One")
    await on_shift_at(client, rider, scene.store, region_id=scene.region.id, north_m=200)
    order = await paid_delivery(client, app, scene)
    delivery = await session.scalar(select(Delivery).where(Delivery.order_id == order["id"]))
    assert delivery is not None
    admin = await make_user(session, is_platform_admin=True)
    await session.commit()
    await log_in(client, admin.email)

    # Waiting for a courier: nothing to send back.
    page = await client.get(URL, params={"region": scene.region.id, "lang": lang})
    assert f"/deliveries/{delivery.id}/unassign" not in page.text
    token = csrf_of(page.text)
    form = {"region": str(scene.region.id), "csrf_token": token}
    given = await client.post(
        f"{URL}/deliveries/{delivery.id}/reassign",
        data={**form, "courier_id": str(rider.user.id)},
    )
    assert given.status_code == 303
    page = await client.get(URL, params={"region": scene.region.id, "lang": lang})
    assert f'action="/admin/dispatch/deliveries/{delivery.id}/unassign"' in page.text
    assert button in page.text

    # With HTMX: the refreshed board, the order waiting again, the rider free.
    back = await client.post(
        f"{URL}/deliveries/{delivery.id}/unassign", data=form, headers={"HX-Request": "true"}
    )
    assert back.status_code == 200, back.text
    assert back.text.lstrip().startswith('<div id="board"')
    assert f'data-delivery="{delivery.id}" data-courier=""' in back.text
    assert _markers(back.text)["orders"][0]["courier"] is None
    rider_row = await session.get(Courier, rider.user.id, populate_existing=True)
    assert rider_row is not None
    assert rider_row.open_count == 0
    # Without scripts: the page comes back.
    await client.post(
        f"{URL}/deliveries/{delivery.id}/reassign",
        data={**form, "courier_id": str(rider.user.id)},
    )
    plain = await client.post(f"{URL}/deliveries/{delivery.id}/unassign", data=form)
    assert (plain.status_code, plain.headers["location"]) == (
        303,
        f"{URL}?region={scene.region.id}",
    )

    # Picked up meanwhile: refused, in the page's language.
    await client.post(
        f"{URL}/deliveries/{delivery.id}/reassign",
        data={**form, "courier_id": str(rider.user.id)},
    )
    for to in ("accepted", "ready"):
        moved = await client.post(
            f"/api/v1/stores/{scene.store.id}/orders/{order['id']}/transitions",
            json={"to": to},
            headers=scene.clerk_headers,
        )
        assert moved.status_code == 200, moved.text
    up = await client.post(
        f"/api/v1/couriers/me/deliveries/{delivery.id}/pickup", headers=rider.headers
    )
    assert up.status_code == 200, up.text
    refused = await client.post(
        f"{URL}/deliveries/{delivery.id}/unassign",
        data={**form, "lang": lang},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 409
    assert refusal in refused.text
