"""The server-side search (``o2o.geo.pg``) at its tier boundaries, against brute force.

Run on both databases: on PostgreSQL they exercise the tiers, on SQLite they pin down that
the two paths agree.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.geo import pg
from o2o.geo.distance import haversine_m
from o2o.geo.grid import cell_of, cover_ranges
from o2o.merchants import queries as store_queries
from o2o.merchants.models import Store
from tests.factories import ALL_DAY, make_merchant, make_region
from tests.geo.test_grid import destination

LAT, LNG = 31.23, 121.47
R1 = pg.FIRST_TIER_M
CLOSED: list[list[list[int]]] = [[] for _ in range(7)]


async def add_stores(
    session: AsyncSession, points: list[tuple[float, float]], *, hours: object = ALL_DAY
) -> list[int]:
    region = await make_region(session)
    merchant = await make_merchant(session)
    rows = [
        {
            "merchant_id": merchant.id,
            "region_id": region.id,
            "name": f"s{i}",
            "name_zh": f"店{i}",
            "lat": lat,
            "lng": lng,
            "cell": cell_of(lat, lng),
            "opening_hours": hours,
            "hours_exceptions": {},
        }
        for i, (lat, lng) in enumerate(points)
    ]
    stmt = insert(Store).returning(Store.id, sort_by_parameter_order=True)
    return list((await session.scalars(stmt, rows)).all())


def at(dist: float, bearing: float = 90.0) -> tuple[float, float]:
    return destination(LAT, LNG, bearing, dist)


async def all_pages(
    session: AsyncSession,
    *,
    lat: float = LAT,
    lng: float = LNG,
    radius: float,
    limit: int,
    open_now: bool = False,
) -> list[list[int]]:
    pages: list[list[int]] = []
    cursor = None
    while True:
        page = await store_queries.nearby_stores(
            session,
            lat=lat,
            lng=lng,
            radius_m=radius,
            limit=limit,
            cursor=cursor,
            filters=store_queries.StoreFilters(open_now=open_now),
        )
        pages.append([item.id for item in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def brute(
    ids: list[int], points: list[tuple[float, float]], radius: float, lat: float = LAT,
    lng: float = LNG,
) -> list[int]:  # fmt: skip
    found = sorted(
        (haversine_m(lat, lng, la, ln), sid)
        for sid, (la, ln) in zip(ids, points, strict=True)
        if haversine_m(lat, lng, la, ln) <= radius
    )
    return [sid for _d, sid in found]


async def test_kth_neighbour_just_beyond_the_first_tier(session: AsyncSession) -> None:
    # Four stores inside the first tier, the fifth half a metre beyond it: the first tier
    # yields too few, so the answer must come from the wider one, in order.
    points = [at(d) for d in (100.0, 700.0, 1_300.0, R1 - 50.0, R1 + 0.5, R1 + 900.0)]
    ids = await add_stores(session, points)
    hits, more = await store_queries.nearby_store_hits(
        session, lat=LAT, lng=LNG, radius_m=5_000.0, limit=5
    )
    assert [h.id for h in hits] == ids[:5]
    assert more
    assert hits[4].distance_m == haversine_m(LAT, LNG, *points[4])


async def test_first_tier_full_with_the_next_row_just_beyond(session: AsyncSession) -> None:
    points = [at(d) for d in (10.0, 500.0, 1_000.0, R1 - 0.5, R1 + 0.5)]
    ids = await add_stores(session, points)
    hits, more = await store_queries.nearby_store_hits(
        session, lat=LAT, lng=LNG, radius_m=5_000.0, limit=3
    )
    assert [h.id for h in hits] == ids[:3]
    assert more
    assert await all_pages(session, radius=5_000.0, limit=3) == [ids[:3], ids[3:]]


async def test_ties_at_one_distance_page_by_id_across_tiers(session: AsyncSession) -> None:
    tie = at(R1 + 300.0, bearing=200.0)
    points = [at(400.0), tie, tie, tie, tie, at(R1 - 1.0, bearing=10.0)]
    ids = await add_stores(session, points)
    ties = sorted(ids[1:5])
    pages = await all_pages(session, radius=5_000.0, limit=2)
    assert pages == [[ids[0], ids[5]], ties[:2], ties[2:]]


async def test_pagination_across_tiers_equals_brute_force(session: AsyncSession) -> None:
    rnd = random.Random(7)
    points = [at(rnd.uniform(0.0, 6_000.0), rnd.uniform(0.0, 360.0)) for _ in range(40)]
    ids = await add_stores(session, points)
    pages = await all_pages(session, radius=5_000.0, limit=4)
    assert [sid for page in pages for sid in page] == brute(ids, points, 5_000.0)
    assert all(len(page) <= 4 for page in pages)


async def test_radius_zero_finds_only_the_point_itself(session: AsyncSession) -> None:
    ids = await add_stores(session, [(LAT, LNG), at(1.0), (LAT, LNG)])
    assert await all_pages(session, radius=0.0, limit=5) == [sorted([ids[0], ids[2]])]


@pytest.mark.parametrize(
    ("lat", "lng"), [(89.995, 12.0), (-89.99, -170.0), (0.0, 179.999), (45.0, -179.99)]
)
async def test_near_a_pole_and_the_antimeridian(
    session: AsyncSession, lat: float, lng: float
) -> None:
    rnd = random.Random(int(lat * 1000 + lng))
    points = [
        destination(lat, lng, rnd.uniform(0.0, 360.0), rnd.uniform(0.0, 7_000.0)) for _ in range(30)
    ]
    ids = await add_stores(session, points)
    pages = await all_pages(session, lat=lat, lng=lng, radius=5_000.0, limit=6)
    assert [sid for page in pages for sid in page] == brute(ids, points, 5_000.0, lat, lng)


async def test_open_now_reads_the_stream_in_chunks(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg, "ACCEPT_CHUNK", 3)
    closed = [at(100.0 + 50.0 * i, bearing=30.0) for i in range(10)]
    opened = [at(R1 + 100.0 * i, bearing=250.0) for i in range(5)]
    await add_stores(session, closed, hours=CLOSED)
    ids = await add_stores(session, opened)
    pages = await all_pages(session, radius=5_000.0, limit=2, open_now=True)
    assert pages == [ids[:2], ids[2:4], ids[4:]]


async def test_distances_match_python_to_the_last_bit(session: AsyncSession, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the SQL distance exists on PostgreSQL only")
    rnd = random.Random(11)
    conn = await session.connection()
    stmt = pg.compile_sql(
        f"SELECT {pg.DISTANCE} FROM unnest($la:float8[], $ln:float8[]) AS t(lat, lng)"  # noqa: S608
    )
    for _ in range(20):
        lat, lng = rnd.uniform(-90.0, 90.0), rnd.uniform(-180.0, 180.0)
        las = [max(-90.0, min(90.0, lat + rnd.gauss(0.0, 0.05))) for _ in range(200)]
        lns = [rnd.uniform(-180.0, 180.0) for _ in range(200)]
        p1 = math.radians(lat)
        rows = await pg.fetch(
            conn, stmt, {"p1": p1, "cos1": math.cos(p1), "lng": lng, "la": las, "ln": lns}
        )
        assert [r[0] for r in rows] == [
            haversine_m(lat, lng, la, ln) for la, ln in zip(las, lns, strict=True)
        ]


@given(
    lat=st.floats(-90.0, 90.0),
    lng=st.floats(-180.0, 180.0),
    radius=st.sampled_from([0.0, 1.0, 900.0, 2_000.0, 5_000.0, 50_000.0]),
)
def test_box_contains_the_cover(lat: float, lng: float, radius: float) -> None:
    box = pg.box_ranges(lat, lng, radius)
    for lo, hi in cover_ranges(lat, lng, radius):
        assert any(a <= lo and hi <= b for a, b in box)
