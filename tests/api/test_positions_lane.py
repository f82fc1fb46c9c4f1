"""The lean lane of ``POST /api/v1/couriers/me/positions`` answers exactly what the FastAPI
route answers, refusal by refusal, in the same order (malformed body, token, fields, rules)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.api.routes.couriers import PositionsLane
from o2o.bootstrap import create_app
from o2o.core.db import Database
from o2o.core.settings import Settings
from tests.delivery.live_scene import fix, make_courier, on_shift_at
from tests.factories import make_user, token_for
from tests.orders.scene import make_scene

URL = "/api/v1/couriers/me/positions"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def framework(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The same app without the lane: every POST reaches the FastAPI route."""
    app = create_app(settings, database=database)
    app.router.routes[:] = [r for r in app.router.routes if not isinstance(r, PositionsLane)]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def test_the_lane_is_matched_first(app: FastAPI) -> None:
    assert isinstance(app.router.routes[0], PositionsLane)


async def test_the_lane_answers_as_the_route_does(
    client: httpx.AsyncClient,
    framework: httpx.AsyncClient,
    session: AsyncSession,
) -> None:
    scene = await make_scene(session)
    courier = await make_courier(session)
    shopper = await make_user(session)
    shopper_headers = await token_for(session, shopper)
    await session.commit()
    good = fix(scene.store, north_m=20, ago_s=1)

    def positions(*items: dict[str, Any]) -> bytes:
        import json

        return json.dumps({"positions": list(items)}).encode()

    cases: list[tuple[dict[str, str], bytes]] = [
        ({}, positions(good)),  # no token
        ({"Authorization": "Bearer nope"}, positions(good)),
        ({"Authorization": "Basic x"}, positions(good)),
        ({}, b"{not json"),  # the body is read before the token
        (courier.headers, b'{"positions": [1'),
        (courier.headers, b""),
        (courier.headers, b"{}"),
        (courier.headers, b'{"positions": []}'),
        (courier.headers, positions({**good, "lat": "north"})),
        (courier.headers, positions({**good, "at": "2026-01-01T00:00:00"})),
        (shopper_headers, positions(good)),  # not a courier
        (courier.headers, positions(good)),  # not on shift
    ]
    for headers, body in cases:
        lane = await client.post(URL, content=body, headers={**JSON, **headers})
        route = await framework.post(URL, content=body, headers={**JSON, **headers})
        assert lane.status_code == route.status_code, (body, lane.text, route.text)
        assert lane.headers["content-type"] == route.headers["content-type"]
        assert lane.json() == route.json(), body
        assert lane.status_code >= 400
    await on_shift_at(client, courier, scene.store, region_id=scene.region.id)
    out_of_range = positions(good, {**good, "lat": 91.0})
    lane = await client.post(URL, content=out_of_range, headers={**JSON, **courier.headers})
    route = await framework.post(URL, content=out_of_range, headers={**JSON, **courier.headers})
    assert (lane.status_code, lane.json()) == (route.status_code, route.json())
    assert lane.json()["code"] == "position_out_of_range"
    lane = await client.post(URL, content=positions(good), headers={**JSON, **courier.headers})
    assert lane.status_code == 200
    assert lane.headers["content-type"] == "application/json"
    assert lane.json() == {"accepted": 1, "moved": True, "stale": False}
    again = positions(fix(scene.store, north_m=30, ago_s=0.5))
    route = await framework.post(URL, content=again, headers={**JSON, **courier.headers})
    assert route.json() == {"accepted": 1, "moved": True, "stale": False}


async def test_other_methods_and_content_types_reach_the_route(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    courier = await make_courier(session)
    got = await client.get(URL, headers=courier.headers)
    assert got.status_code == 405
    assert got.json()["code"] == "method_not_allowed"
    form = await client.post(URL, data={"positions": "x"}, headers=courier.headers)
    assert form.status_code == 422
    assert form.json()["code"] == "validation_error"
