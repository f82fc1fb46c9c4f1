"""The courier's page over HTTP: shift on, the phone's positions, a task with its map points
and navigation link, pick up, a wrong code refused in the page's language, the hand-over, and
the page in Chinese; other users are refused."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.db import Database
from o2o.delivery.models import Delivery
from o2o.redemption.models import CodeKind, RedemptionCode
from tests.delivery.live_scene import (
    dispatch_round,
    fix,
    make_courier,
    on_shift_at,
    paid_delivery,
    staff_moves,
)
from tests.orders.scene import make_scene
from tests.web.conftest import csrf_of, log_in


async def test_a_courier_works_a_delivery_from_the_page(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session)
    await log_in(client, courier.user.email)
    page = await client.get("/courier")
    assert page.status_code == 200
    assert "Go on shift" in page.text
    on = await client.post("/courier/shift", data={"on": "true", "csrf_token": csrf_of(page.text)})
    assert (on.status_code, on.headers["location"]) == (303, "/courier")
    page = await client.get("/courier")
    token = csrf_of(page.text)
    assert "Go off shift" in page.text
    sent = await client.post(
        "/courier/positions",
        json={"positions": [fix(scene.store, north_m=100)]},
        headers={"X-CSRF-Token": token},
    )
    assert sent.json() == {"accepted": 1, "moved": True}
    forged = await client.post("/courier/positions", json={"positions": [fix(scene.store)]})
    assert forged.status_code == 403

    order = await paid_delivery(client, app, scene)
    await staff_moves(client, scene, order["id"], "accepted", "ready")
    assert (await dispatch_round(database)).assigned == 1
    delivery = await session.scalar(select(Delivery).where(Delivery.order_id == order["id"]))
    assert delivery is not None
    page = await client.get("/courier")
    assert f'id="task-{delivery.id}"' in page.text
    assert "12 Home Road" in page.text
    assert "openstreetmap.org/directions" in page.text
    assert '"kind": "door"' in page.text or '"kind":"door"' in page.text
    base = f"/courier/deliveries/{delivery.id}"
    picked = await client.post(f"{base}/pickup", data={"csrf_token": token})
    assert picked.status_code == 303
    wrong = await client.post(f"{base}/deliver", data={"code": "0000-0000-0", "csrf_token": token})
    assert wrong.status_code == 422
    assert "That is not this order&#39;s delivery code" in wrong.text
    in_chinese = await client.post(
        f"{base}/deliver?lang=zh_CN", data={"code": "0000-0000-0", "csrf_token": token}
    )
    assert in_chinese.status_code == 422
    assert "这不是该订单的收货码" in in_chinese.text
    code = await session.scalar(
        select(RedemptionCode.code).where(
            RedemptionCode.subject == f"order:{order['id']}",
            RedemptionCode.kind == CodeKind.DELIVERY,
        )
    )
    done = await client.post(f"{base}/deliver", data={"code": code, "csrf_token": token})
    assert done.status_code == 303
    final = await client.get(f"/api/v1/orders/{order['id']}", headers=scene.shopper_headers)
    assert final.json()["status"] == "delivered"
    zh = await client.get("/courier?lang=zh_CN")
    assert "今日收入" in zh.text
    assert "配送单数：1" in zh.text


async def test_the_courier_page_is_for_couriers(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    await log_in(client, scene.shopper.email)
    refused = await client.get("/courier")
    assert refused.status_code == 403
    me = await client.get("/me")
    assert 'href="/courier"' not in me.text


async def test_the_shoppers_order_page_shows_the_code_and_the_courier(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session, phone="13900001111")
    order = await paid_delivery(client, app, scene)
    code = await session.scalar(
        select(RedemptionCode.code).where(
            RedemptionCode.subject == f"order:{order['id']}",
            RedemptionCode.kind == CodeKind.DELIVERY,
        )
    )
    assert code is not None
    await log_in(client, scene.shopper.email)
    page = await client.get(f"/orders/{order['id']}")
    assert f"{code[:4]}-{code[4:8]}-{code[8:]}" in page.text
    assert "Waiting for a courier" in page.text
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    await staff_moves(client, scene, order["id"], "accepted", "ready")
    assert (await dispatch_round(database)).assigned == 1
    page = await client.get(f"/orders/{order['id']}?lang=zh_CN")
    assert f"骑手：{courier.user.display_name} · 139****1111" in page.text
    assert "分钟后送达" in page.text


async def test_the_live_map_is_on_the_order_page_only_while_a_courier_has_it(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session, phone="13900002222")
    order = await paid_delivery(client, app, scene)
    url, stream = f"/orders/{order['id']}", f"/orders/{order['id']}/tracking/stream"
    await log_in(client, scene.shopper.email)
    # Waiting for a courier: no map, no stream.
    waiting = await client.get(url)
    assert 'id="track-map"' not in waiting.text
    assert stream not in waiting.text
    # A courier has it: the map, the stream that moves it, the masked phone, the ETA.
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id, north_m=300)
    await staff_moves(client, scene, order["id"], "accepted", "ready")
    assert (await dispatch_round(database)).assigned == 1
    assigned = await client.get(url)
    assert 'id="track-map"' in assigned.text
    assert f'data-stream="{stream}"' in assigned.text
    assert "139****2222" in assigned.text
    assert "13900002222" not in assigned.text
    assert "Arrives in about" in assigned.text
    code = await session.scalar(
        select(RedemptionCode.code).where(
            RedemptionCode.subject == f"order:{order['id']}",
            RedemptionCode.kind == CodeKind.DELIVERY,
        )
    )
    assert code is not None
    config = assigned.text.split('id="track-config">', 1)[1].split("</script>", 1)[0]
    assert '"delivery_code"' not in config  # the code is shown once, not in the map's data
    assert '"position"' in config
    zh = await client.get(f"{url}?lang=zh_CN")
    assert "地图：门店、您的地址和骑手" in zh.text
    # Picked up: still on the map; delivered: gone.
    delivery = await session.scalar(select(Delivery).where(Delivery.order_id == order["id"]))
    assert delivery is not None
    steps = f"/api/v1/couriers/me/deliveries/{delivery.id}"
    assert (await client.post(f"{steps}/pickup", headers=courier.headers)).status_code == 200
    assert 'id="track-map"' in (await client.get(url)).text
    done = await client.post(f"{steps}/deliver", json={"code": code}, headers=courier.headers)
    assert done.status_code == 200, done.text
    delivered = await client.get(url)
    assert 'id="track-map"' not in delivered.text
    assert stream not in delivered.text
    # An order the store's own staff carry shows no courier and no map.
    own = await paid_delivery(client, app, scene, north_m=700)
    await staff_moves(client, scene, own["id"], "accepted", "ready", "out_for_delivery")
    by_staff = await client.get(f"/orders/{own['id']}")
    assert 'id="track-map"' not in by_staff.text
    # The stream is the shopper's only.
    client.cookies.clear()
    await log_in(client, courier.user.email)
    theirs = await client.get(stream)
    assert theirs.status_code == 404
