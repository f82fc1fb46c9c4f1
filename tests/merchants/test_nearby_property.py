"""Property: nearby search through the database equals a brute-force scan, page by page."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.geo.distance import haversine_m
from o2o.geo.grid import cell_of
from o2o.merchants import queries as store_queries
from o2o.merchants.models import Store
from tests.factories import ALL_DAY, make_merchant, make_region
from tests.geo.test_grid import destination


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 100_000),
    n=st.integers(0, 120),
    spread=st.sampled_from([0.3, 1.0, 2.5]),
    lat0=st.sampled_from([0.0, 31.23, 59.9, 89.95, -89.95]),
    radius=st.sampled_from([0.0, 250.0, 2_000.0, 10_000.0]),
    limit=st.integers(1, 12),
)
async def test_nearby_equals_brute_force(
    session: AsyncSession,
    seed: int,
    n: int,
    spread: float,
    lat0: float,
    radius: float,
    limit: int,
) -> None:
    rnd = random.Random(seed)
    lng0 = rnd.uniform(-170, 170)
    async with session.begin_nested() as savepoint:
        region = await make_region(session)
        merchant = await make_merchant(session)
        points = []
        # Points around the query at distances comparable to the radius (in and out of it).
        reach_m = max(radius, 150.0) * spread
        for _ in range(n):
            points.append(destination(lat0, lng0, rnd.uniform(0, 360), abs(rnd.gauss(0, reach_m))))
        if points:
            points.append(points[0])  # an exact tie
        rows = [
            {
                "merchant_id": merchant.id,
                "region_id": region.id,
                "name": f"s{i}",
                "name_zh": f"店{i}",
                "lat": lat,
                "lng": lng,
                "cell": cell_of(lat, lng),
                "opening_hours": ALL_DAY,
                "hours_exceptions": {},
            }
            for i, (lat, lng) in enumerate(points)
        ]
        ids = (await session.scalars(insert(Store).returning(Store.id), rows)).all() if rows else []
        by_id = dict(zip(ids, points, strict=True))
        expected = sorted(
            (haversine_m(lat0, lng0, la, ln), sid)
            for sid, (la, ln) in by_id.items()
            if haversine_m(lat0, lng0, la, ln) <= radius
        )
        got: list[int] = []
        cursor = None
        while True:
            page = await store_queries.nearby_stores(
                session, lat=lat0, lng=lng0, radius_m=radius, limit=limit, cursor=cursor
            )
            got.extend(item.id for item in page.items)
            assert len(page.items) <= limit
            cursor = page.next_cursor
            if cursor is None:
                break
        assert got == [sid for _d, sid in expected]
        await savepoint.rollback()
