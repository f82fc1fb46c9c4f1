"""Regions, store lists and nearby search through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.geo.distance import haversine_m
from o2o.merchants import service as merchants_service
from o2o.merchants.schemas import StoreUpdate
from tests.factories import make_merchant, make_region, make_store

CENTER = (31.2304, 121.4737)


async def test_healthz(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_regions_list_has_the_interface_fields(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    region = await make_region(session, code="sh-test", name="Shanghai", name_zh="上海")
    await session.commit()
    r = await client.get("/api/v1/regions")
    assert r.status_code == 200
    row = next(x for x in r.json() if x["code"] == "sh-test")
    assert row["id"] == region.id
    assert row["name_zh"] == "上海"
    assert row["timezone"] == "Asia/Shanghai"
    assert row["currency"] == "CNY"
    assert row["center"] == {"lat": 31.23, "lng": 121.47}


async def _city(session: AsyncSession, n: int = 30) -> list[int]:
    region = await make_region(session)
    merchant = await make_merchant(session, name="Fresh Mart", name_zh="鲜超市")
    ids = []
    for i in range(n):
        store = await make_store(
            session,
            merchant=merchant,
            region=region,
            name=f"Branch {i}",
            lat=CENTER[0] + (i - n / 2) * 0.002,
            lng=CENTER[1] + ((i * 7) % n - n / 2) * 0.002,
        )
        ids.append(store.id)
    await session.commit()
    return ids


async def test_nearby_is_nearest_first_and_pages_without_gaps(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _city(session)
    seen: list[dict] = []  # type: ignore[type-arg]
    cursor = None
    while True:
        params = {"lat": CENTER[0], "lng": CENTER[1], "radius_m": 3000, "limit": 7}
        if cursor:
            params["cursor"] = cursor
        r = await client.get("/api/v1/stores/nearby", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    distances = [s["distance_m"] for s in seen]
    assert distances == sorted(distances)
    assert len({s["id"] for s in seen}) == len(seen)
    expected = [s for s in seen if haversine_m(CENTER[0], CENTER[1], s["lat"], s["lng"]) <= 3000]
    assert len(seen) == len(expected) > 7
    assert {"id", "merchant_id", "region_id", "name", "lat", "lng", "distance_m"} <= set(seen[0])


async def test_nearby_text_filter_matches_chinese_and_english(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _city(session, n=5)
    for q in ("fresh", "鲜超市", "branch 3"):
        r = await client.get(
            "/api/v1/stores/nearby", params={"lat": CENTER[0], "lng": CENTER[1], "q": q}
        )
        assert r.status_code == 200
        assert r.json()["items"], q
    r = await client.get(
        "/api/v1/stores/nearby", params={"lat": CENTER[0], "lng": CENTER[1], "q": "bakery"}
    )
    assert r.json()["items"] == []


async def test_nearby_open_now_filter(client: httpx.AsyncClient, session: AsyncSession) -> None:
    region = await make_region(session)
    merchant = await make_merchant(session)
    open_store = await make_store(session, merchant=merchant, region=region)
    await make_store(
        session, merchant=merchant, region=region, opening_hours=[[] for _ in range(7)]
    )
    await session.commit()
    r = await client.get(
        "/api/v1/stores/nearby",
        params={"lat": region.center_lat, "lng": region.center_lng, "open_now": "true"},
    )
    ids = [s["id"] for s in r.json()["items"]]
    assert open_store.id in ids
    assert all(s["open_now"] for s in r.json()["items"])
    r = await client.get(
        "/api/v1/stores/nearby", params={"lat": region.center_lat, "lng": region.center_lng}
    )
    assert any(s["open_now"] is False for s in r.json()["items"])


async def test_list_stores_by_region_paginates(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ids = await _city(session, n=12)
    region_code = (await client.get(f"/api/v1/stores/{ids[0]}")).json()["region_id"]
    regions = (await client.get("/api/v1/regions")).json()
    code = next(r["code"] for r in regions if r["id"] == region_code)
    got: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"region": code, "limit": 5}
        if cursor:
            params["cursor"] = cursor
        body = (await client.get("/api/v1/stores", params=params)).json()
        got.extend(s["id"] for s in body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert got == ids


@pytest.mark.parametrize(
    ("path", "status", "code", "field"),
    [
        ("/api/v1/stores/nearby?lat=91&lng=0", 422, "validation_error", "lat"),
        ("/api/v1/stores/nearby?lat=0&lng=-181", 422, "validation_error", "lng"),
        ("/api/v1/stores/nearby?lat=0&lng=0&radius_m=-1", 422, "validation_error", "radius_m"),
        ("/api/v1/stores/nearby?lat=0&lng=0&radius_m=1e9", 422, "validation_error", "radius_m"),
        ("/api/v1/stores/nearby?lat=abc&lng=0", 422, "validation_error", "lat"),
        ("/api/v1/stores/nearby?lat=0&lng=0&cursor=%%%", 422, "invalid_cursor", "cursor"),
        ("/api/v1/stores/nearby?lat=0&lng=0&cursor=WzEsMiwzXQ", 422, "invalid_cursor", "cursor"),
        ("/api/v1/stores/nearby?lat=0&lng=0&category=nope", 422, "unknown_category", "category"),
        ("/api/v1/stores/nearby?lat=0&lng=0&q=%20%21", 422, "invalid_input", "q"),
        ("/api/v1/stores?region=atlantis", 422, "unknown_region", "region"),
        ("/api/v1/stores?limit=0", 422, "validation_error", "limit"),
        ("/api/v1/stores/999999999", 404, "store_not_found", None),
        ("/api/v1/nowhere", 404, "not_found", None),
    ],
)
async def test_bad_input_is_a_problem_document(
    client: httpx.AsyncClient, path: str, status: int, code: str, field: str | None
) -> None:
    r = await client.get(path)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["detail"]
    if field:
        assert body["field"] == field


async def test_moving_a_store_moves_it_in_search(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    region = await make_region(session)
    store = await make_store(session, merchant=await make_merchant(session), region=region)
    await merchants_service.update_store(
        session, store_id=store.id, data=StoreUpdate(lat=region.center_lat + 0.5)
    )
    await session.commit()
    near = await client.get(
        "/api/v1/stores/nearby",
        params={"lat": region.center_lat, "lng": region.center_lng, "radius_m": 5000},
    )
    assert store.id not in [s["id"] for s in near.json()["items"]]
