"""A latitude/longitude grid whose cells are numbered row by row.

Each store and each stock row carries the number of the grid cell it lies in. Cells are
numbered ``row * COLUMNS + column``, so all the cells of one row between two longitudes form
one contiguous integer range. The cells that may hold points within ``r`` metres of a point are
therefore a handful of ``BETWEEN`` ranges (one per row crossed by the circle's bounding box),
which any B-tree (SQLite or PostgreSQL) answers with one seek per range. The cover is exact
by construction: it contains the whole spherical cap, so no store near an edge is missed.
"""

from __future__ import annotations

import math

from o2o.geo.distance import EARTH_RADIUS_M

CELL_DEG = 0.01  # about 1.1 km north-south
ROWS = round(180 / CELL_DEG)
COLUMNS = round(360 / CELL_DEG)


def row_of(lat: float) -> int:
    return min(ROWS - 1, max(0, math.floor((lat + 90.0) / CELL_DEG)))


def column_of(lng: float) -> int:
    return min(COLUMNS - 1, max(0, math.floor((lng + 180.0) / CELL_DEG)))


def cell_of(lat: float, lng: float) -> int:
    """The number of the grid cell that contains the point."""
    return row_of(lat) * COLUMNS + column_of(lng)


def cap_bounds(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float | None]:
    """Latitude range and longitude half-width of a spherical cap's bounding box.

    Returns ``(min_lat, max_lat, min_lng, dlng)``; ``dlng`` is ``None`` when the cap contains a
    pole, in which case every longitude is covered.
    """
    angular = radius_m / EARTH_RADIUS_M
    dlat = math.degrees(angular)
    min_lat, max_lat = lat - dlat, lat + dlat
    if min_lat <= -90.0 or max_lat >= 90.0 or angular >= math.pi / 2:
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, None
    # Widest longitude extent of a cap (see Chamberlain & Duquette, bounding a circle on a sphere).
    dlng = math.degrees(math.asin(min(1.0, math.sin(angular) / math.cos(math.radians(lat)))))
    return min_lat, max_lat, lng - dlng, dlng


def cover_ranges(lat: float, lng: float, radius_m: float) -> list[tuple[int, int]]:
    """Inclusive cell-number ranges that together contain every point within ``radius_m``.

    Each grid row gets the longitude extent of the cap within that row's latitude band, not
    the whole bounding box's: the rows near the top and bottom of the circle are narrower,
    which saves about a fifth of the rows read.
    """
    min_lat, max_lat, _min_lng, dlng = cap_bounds(lat, lng, radius_m)
    if dlng is None or dlng >= 180.0:
        return _merge(
            [(row * COLUMNS, row * COLUMNS + COLUMNS - 1)
             for row in range(row_of(min_lat), row_of(max_lat) + 1)]
        )  # fmt: skip
    angular = radius_m / EARTH_RADIUS_M
    sin0, cos0, cos_ang = (
        math.sin(math.radians(lat)),
        math.cos(math.radians(lat)),
        math.cos(angular),
    )
    # The latitude where the cap is widest (a little poleward of its centre).
    widest = math.degrees(math.asin(min(1.0, sin0 / cos_ang)))
    ranges: list[tuple[int, int]] = []
    wraps = False
    for row in range(row_of(min_lat), row_of(max_lat) + 1):
        south = max(min_lat, row * CELL_DEG - 90.0)
        north = min(max_lat, (row + 1) * CELL_DEG - 90.0)
        half = dlng
        if not south <= widest <= north:
            # Longitude half-width of the cap at the band's edge nearest the widest latitude.
            p = math.radians(north if north < widest else south)
            denom = cos0 * math.cos(p)
            c = (cos_ang - sin0 * math.sin(p)) / denom if denom > 0.0 else -1.0
            if c > -1.0:
                half = min(dlng, math.degrees(math.acos(min(1.0, c))))
        half += SLACK_DEG
        west, east = lng - half, lng + half
        base = row * COLUMNS
        if west < -180.0 or east > 180.0:
            wraps = True
            ranges.extend((base + a, base + b) for a, b in _spans(lng, half))
        else:
            ranges.append((base + column_of(west), base + column_of(east)))
    # Without a wrap the ranges are already sorted and apart (one per row, rows differ).
    return _merge(ranges) if wraps else ranges


# Guards the per-row extents against rounding: a hair wider is still exact, narrower is not.
SLACK_DEG = 1e-9


def _spans(lng: float, half: float) -> list[tuple[int, int]]:
    """Column ranges between ``lng - half`` and ``lng + half``, across the antimeridian."""
    if half >= 180.0:
        return [(0, COLUMNS - 1)]
    west, east = lng - half, lng + half
    if west < -180.0:
        return [(0, column_of(east)), (column_of(west + 360.0), COLUMNS - 1)]
    if east > 180.0:
        return [(column_of(west), COLUMNS - 1), (0, column_of(east - 360.0))]
    return [(column_of(west), column_of(east))]


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
