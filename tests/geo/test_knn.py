"""Nearest-first search equals a brute-force scan, page after page."""

from __future__ import annotations

import random
from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from o2o.geo import knn
from o2o.geo.distance import haversine_m
from o2o.geo.grid import cell_of


def _index(points: list[tuple[float, float]]) -> knn.Fetch:
    cells = [(cell_of(la, ln), i, la, ln) for i, (la, ln) in enumerate(points)]

    async def fetch(ranges: knn.Ranges) -> Iterable[knn.Row]:
        return [
            (i, la, ln, None) for c, i, la, ln in cells if any(lo <= c <= hi for lo, hi in ranges)
        ]

    return fetch


def _probe(fetch: knn.Fetch) -> knn.Probe:
    async def probe(near, wide, cap):  # type: ignore[no-untyped-def]
        near_rows = list(await fetch(near))
        wide_rows = list(await fetch(wide))[:cap]
        return near_rows, (wide_rows if len(wide_rows) < cap else None)

    return probe


async def _all_pages(points, lat, lng, radius, limit, accept=None, probe=False):  # type: ignore[no-untyped-def]
    fetch = _index(points)
    out: list[int] = []
    after = None
    while True:
        hits, more = await knn.nearest(
            lat=lat,
            lng=lng,
            radius_m=radius,
            limit=limit,
            fetch=fetch,
            accept=accept,
            after=after,
            probe=_probe(fetch) if probe else None,
        )
        out.extend(h.id for h in hits)
        if not more:
            return out
        after = (hits[-1].distance_m, hits[-1].id)


def _brute(points, lat, lng, radius, keep=lambda i: True):  # type: ignore[no-untyped-def]
    scored = [(haversine_m(lat, lng, la, ln), i) for i, (la, ln) in enumerate(points)]
    return [i for d, i in sorted(scored) if d <= radius and keep(i)]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(0, 300),
    spread=st.sampled_from([0.005, 0.05, 0.3]),
    lat0=st.floats(-85, 85),
    radius=st.sampled_from([0.0, 200.0, 1_500.0, 5_000.0, 20_000.0]),
    limit=st.integers(1, 25),
    probe=st.booleans(),
)
async def test_pages_equal_brute_force(seed, n, spread, lat0, radius, limit, probe):  # type: ignore[no-untyped-def]
    rnd = random.Random(seed)
    lng0 = rnd.uniform(-170, 170)
    points = [(lat0 + rnd.gauss(0, spread), lng0 + rnd.gauss(0, spread)) for _ in range(n)]
    points = [(max(-89.9, min(89.9, a)), b) for a, b in points]
    if points and rnd.random() < 0.3:  # exact duplicates and the query point itself
        points.extend(points[: n // 4])
        points.append((lat0, lng0))
    got = await _all_pages(points, lat0, lng0, radius, limit, probe=probe)
    assert got == _brute(points, lat0, lng0, radius)


async def test_filter_is_applied_before_ranking() -> None:
    rnd = random.Random(7)
    points = [(31.2 + rnd.gauss(0, 0.02), 121.4 + rnd.gauss(0, 0.02)) for _ in range(500)]

    async def even(ids: list[int]) -> set[int]:
        return {i for i in ids if i % 2 == 0}

    got = await _all_pages(points, 31.2, 121.4, 3_000, 7, accept=even)
    assert got == _brute(points, 31.2, 121.4, 3_000, keep=lambda i: i % 2 == 0)
    assert got  # the data set has even-numbered points within 3 km
