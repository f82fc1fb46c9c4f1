"""The couriers' positions WebSocket through a real HTTP server: authenticated once at the
handshake (refusals as problem details over HTTP), then every batch answered in order with
what the POST would answer, the same refusals with the same codes (and nothing moved), the
same news on the shopper's channel; a revoked token closes the connection."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts import service as accounts_service
from o2o.api.routes import couriers as courier_routes
from o2o.core.broker import Broker
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.delivery.models import Courier, CourierPosition
from o2o.orders.channels import order_channel
from tests.delivery.live_scene import (
    dispatch_round,
    fix,
    make_courier,
    on_shift_at,
    paid_delivery,
    staff_moves,
)
from tests.factories import make_user, token_for
from tests.orders.scene import make_scene

PATH = "/api/v1/couriers/me/positions/ws"


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """The app on a real uvicorn server on this event loop (so it shares the test's
    database transaction); yields its ws:// base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started, "the test server did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def ws_base(app: FastAPI) -> AsyncIterator[str]:
    async with serving(app) as base:
        yield base


async def _ask(ws: websockets.ClientConnection, body: Any) -> dict[str, Any]:
    await ws.send(body if isinstance(body, str | bytes) else json.dumps(body))
    answer: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
    return answer


async def _refused_handshake(url: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(url, additional_headers=headers):
            pass
    response = refused.value.response
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.status_code, json.loads(response.body or b"{}")


async def test_the_handshake_needs_a_courier_token(ws_base: str, session: AsyncSession) -> None:
    url = ws_base + PATH
    status, problem = await _refused_handshake(url, {})
    assert (status, problem["code"]) == (401, "not_authenticated")
    status, problem = await _refused_handshake(url, {"Authorization": "Basic abc"})
    assert (status, problem["code"]) == (401, "not_authenticated")
    status, problem = await _refused_handshake(url, {"Authorization": "Bearer not-a-token"})
    assert (status, problem["code"]) == (401, "invalid_token")
    shopper = await make_user(session)
    headers = await token_for(session, shopper)
    await session.commit()
    status, problem = await _refused_handshake(url, headers)
    assert (status, problem["code"]) == (403, "not_a_courier")
    assert problem["instance"] == PATH


async def test_batches_on_the_socket_move_the_courier_and_reach_the_shopper(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    ws_base: str,
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session, phone="13800001234")
    order = await paid_delivery(client, app, scene)
    await staff_moves(client, scene, order["id"], "accepted", "ready")
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    assert (await dispatch_round(database)).assigned == 1
    trail_before = await _trail(session, courier.user.id)
    broker: Broker = app.state.broker
    async with (
        broker.subscribe(order_channel(order["id"])) as messages,
        websockets.connect(ws_base + PATH, additional_headers=courier.headers) as ws,
    ):
        batch = [fix(scene.store, north_m=150, ago_s=2), fix(scene.store, north_m=200, ago_s=1)]
        assert await _ask(ws, {"positions": batch}) == {
            "accepted": 2,
            "moved": True,
            "stale": False,
        }
        message = await asyncio.wait_for(anext(messages), 2)
        # An older batch: kept for the trail, the courier stays where it was seen last.
        older = {"positions": [fix(scene.store, north_m=10, ago_s=60)]}
        assert await _ask(ws, older) == {"accepted": 1, "moved": False, "stale": False}
    assert message["type"] == "tracking"
    assert message["order_id"] == order["id"]
    assert message["position"]["lat"] == batch[1]["lat"]
    assert message["courier"]["phone"] == "138****1234"  # masked, as on the POST
    assert message["delivery_code"] is None
    after = await session.get(Courier, courier.user.id, populate_existing=True)
    assert after is not None
    assert after.last_lat == batch[1]["lat"]
    assert await _trail(session, courier.user.id) == trail_before + 3


async def _trail(session: AsyncSession, courier_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(CourierPosition)
        .where(CourierPosition.courier_id == courier_id)
    )
    return int(count or 0)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"lat": 91.0}, "position_out_of_range"),
        ({"at_shift_s": 120}, "position_in_future"),
        ({"at_shift_s": -3600}, "position_too_old"),
    ],
)
async def test_bad_batches_are_refused_with_the_posts_codes_and_the_socket_stays_open(
    client: httpx.AsyncClient,
    session: AsyncSession,
    ws_base: str,
    change: dict[str, float],
    code: str,
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session)
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    before = await session.get(Courier, courier.user.id, populate_existing=True)
    assert before is not None
    was = (before.last_lat, before.last_lng, before.last_seen_at)
    good = fix(scene.store, north_m=50, ago_s=1)
    bad = fix(
        scene.store, north_m=80, at=utcnow() + timedelta(seconds=change.get("at_shift_s", -1))
    )
    bad.update({k: v for k, v in change.items() if k == "lat"})
    async with websockets.connect(ws_base + PATH, additional_headers=courier.headers) as ws:
        problem = await _ask(ws, {"positions": [good, bad]})
        assert (problem["status"], problem["code"]) == (422, code)
        assert problem["field"].startswith("positions[1]")
        assert problem["instance"] == PATH
        after = await session.get(Courier, courier.user.id, populate_existing=True)
        assert after is not None
        assert (after.last_lat, after.last_lng, after.last_seen_at) == was
        # Bad shapes, too, are answered and leave the connection open.
        invalid = await _ask(ws, "{not json")
        assert (invalid["status"], invalid["code"]) == (422, "validation_error")
        empty = await _ask(ws, {"positions": []})
        assert (empty["code"], empty["field"]) == ("validation_error", "positions")
        no_zone = await _ask(ws, {"positions": [{**good, "at": "2026-01-01T00:00:00"}]})
        assert no_zone["code"] == "validation_error"
        binary = await _ask(ws, json.dumps({"positions": [good]}).encode())
        assert (binary["status"], binary["code"]) == (415, "unsupported_media_type")
        huge = await _ask(ws, " " * (courier_routes.MAX_MESSAGE_CHARS + 1))
        assert (huge["status"], huge["code"]) == (413, "payload_too_large")
        assert await _ask(ws, {"positions": [good]}) == {
            "accepted": 1,
            "moved": True,
            "stale": False,
        }


async def test_off_shift_batches_are_refused_and_a_revoked_token_closes_the_socket(
    client: httpx.AsyncClient,
    session: AsyncSession,
    ws_base: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session)
    async with websockets.connect(ws_base + PATH, additional_headers=courier.headers) as ws:
        off = await _ask(ws, {"positions": [fix(scene.store)]})
        assert (off["status"], off["code"]) == (409, "courier_not_on_shift")
        await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
        assert (await _ask(ws, {"positions": [fix(scene.store, ago_s=1)]}))["accepted"] == 1
        token = courier.headers["Authorization"].removeprefix("Bearer ")
        await accounts_service.revoke_token(session, token=token)
        await session.commit()
        monkeypatch.setattr(courier_routes, "REAUTH_S", 0.0)  # the next batch checks again
        gone = await _ask(ws, {"positions": [fix(scene.store, ago_s=0.5)]})
        assert (gone["status"], gone["code"]) == (401, "invalid_token")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008
