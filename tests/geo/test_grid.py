"""The grid cover must contain every point within the radius, at any latitude."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from o2o.geo.distance import EARTH_RADIUS_M, haversine_m
from o2o.geo.grid import COLUMNS, cell_of, cover_ranges


def _covered(cell: int, ranges: list[tuple[int, int]]) -> bool:
    return any(lo <= cell <= hi for lo, hi in ranges)


def destination(lat: float, lng: float, bearing: float, dist: float) -> tuple[float, float]:
    """Destination point on the sphere (for generating points at a known distance)."""
    d = dist / EARTH_RADIUS_M
    p1, l1, b = math.radians(lat), math.radians(lng), math.radians(bearing)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180


def test_distance_shanghai_to_beijing_is_about_1067_km() -> None:
    d = haversine_m(31.2304, 121.4737, 39.9042, 116.4074)
    assert 1_060_000 < d < 1_075_000


def test_distance_zero_and_symmetric() -> None:
    assert haversine_m(10, 20, 10, 20) == 0
    assert haversine_m(1, 2, 3, 4) == pytest.approx(haversine_m(3, 4, 1, 2))


def test_radius_zero_covers_the_point_itself() -> None:
    assert _covered(cell_of(31.2, 121.5), cover_ranges(31.2, 121.5, 0))


def test_cap_around_a_pole_covers_every_longitude() -> None:
    ranges = cover_ranges(89.99, 0.0, 5_000)
    for lng in (-179.9, -90, 0, 90, 179.9):
        assert _covered(cell_of(89.995, lng), ranges)


def test_ranges_are_one_per_row_for_a_city_radius() -> None:
    ranges = cover_ranges(31.23, 121.47, 5_000)
    assert 9 <= len(ranges) <= 11
    assert all(hi - lo < COLUMNS for lo, hi in ranges)


@settings(max_examples=400, deadline=None)
@given(
    lat=st.floats(-89.999, 89.999),
    lng=st.floats(-179.0, 179.0),
    bearing=st.floats(0, 360),
    radius=st.floats(0, 50_000),
    frac=st.floats(0, 1),
)
def test_every_point_within_the_radius_is_covered(
    lat: float, lng: float, bearing: float, radius: float, frac: float
) -> None:
    plat, plng = destination(lat, lng, bearing, radius * frac)
    if haversine_m(lat, lng, plat, plng) > radius:  # rounding at the very edge
        return
    assert _covered(cell_of(plat, plng), cover_ranges(lat, lng, radius))
