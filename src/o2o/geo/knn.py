"""Exact k-nearest search within a radius, over any table that carries grid cells.

The search asks for the rows in the grid cover of a small circle first and widens it only
while fewer than ``limit + 1`` acceptable rows lie inside; rows within the current circle are
then exactly the nearest ones, because everything outside it is farther away. Distances are
great-circle distances computed in Python, so SQLite and PostgreSQL return the same answer.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from o2o.geo.distance import EARTH_RADIUS_M
from o2o.geo.grid import cover_ranges

# Tuned on the G1/G2 benchmark data (o2o bench geo): a round trip costs about as much as 70
# rows, so the first circle is wide enough to finish most dense-city searches in one step.
FIRST_RADIUS_M = 1_500.0
GROWTH_MIN = 1.5
GROWTH_MARGIN = 1.4
GROWTH_EMPTY = 0.5

Ranges = list[tuple[int, int]]
Row = tuple[int, float, float, Any]  # id, lat, lng, payload
Fetch = Callable[[Ranges], Awaitable[Iterable[Row]]]
Accept = Callable[[list[int]], Awaitable[set[int]]]
Found = tuple[float, int, Any]  # distance, id, payload: cheaper than a Hit per row read
_DISTANCE_ID = itemgetter(0, 1)  # payloads need not be comparable
# probe(near, wide, cap): the rows of the near ranges, and those of the wide ranges if there
# are fewer than ``cap`` of them (else None), in one round trip.
Probe = Callable[[Ranges, Ranges, int], Awaitable[tuple[Iterable[Row], Iterable[Row] | None]]]
# The probe's wide part may return this many rows per row asked for before the area counts as
# dense: enough that sparse areas finish in one round trip, few enough to cost little in cities.
PROBE_ROWS_PER_HIT = 4


@dataclass(frozen=True, slots=True)
class Hit:
    distance_m: float
    id: int
    payload: Any


async def nearest(
    *,
    lat: float,
    lng: float,
    radius_m: float,
    limit: int,
    fetch: Fetch,
    accept: Accept | None = None,
    after: tuple[float, int] | None = None,
    first_radius_m: float = FIRST_RADIUS_M,
    chunk: int = 64,
    probe: Probe | None = None,
) -> tuple[list[Hit], bool]:
    """The ``limit`` nearest accepted rows within ``radius_m`` after the ``after`` key.

    ``fetch`` returns the rows of the given cell ranges (a superset is fine); ``accept`` decides
    which ids pass filters that need more than the position (called in distance order, in
    chunks, so a page rarely looks at more than it shows). Returns the hits and whether more
    exist. Ordered by ``(distance, id)``, which is also the keyset of ``after``. With ``probe``,
    the first round trip also reads the whole radius when it holds few rows.
    """
    start = after[0] if after else 0.0
    r = min(radius_m, start + first_radius_m)
    decided: dict[int, bool] = {}
    first = True
    while True:
        rows: Iterable[Row]
        if first and probe is not None and r < radius_m:
            cap = PROBE_ROWS_PER_HIT * (limit + 1)
            wide = cover_ranges(lat, lng, radius_m)
            near_rows, all_rows = await probe(cover_ranges(lat, lng, r), wide, cap)
            rows = near_rows if all_rows is None else all_rows
            r = r if all_rows is None else radius_m
        else:
            rows = await fetch(cover_ranges(lat, lng, r))
        first = False
        found = _within(rows, lat, lng, r, after)
        if accept is None:
            accepted = found[: limit + 1]
        else:
            accepted = await _accepted(found, accept, decided, limit, chunk)
        if len(accepted) > limit or r >= radius_m:
            return [Hit(*f) for f in accepted[:limit]], len(accepted) > limit
        r = min(radius_m, start + (r - start) * growth(len(accepted), limit + 1))


async def _accepted(
    found: list[Found], accept: Accept, decided: dict[int, bool], limit: int, chunk: int
) -> list[Found]:
    """The first ``limit + 1`` found rows that ``accept`` passes, asking in chunks."""
    accepted: list[Found] = []
    for i in range(0, len(found), chunk):
        part = found[i : i + chunk]
        todo = [f[1] for f in part if f[1] not in decided]
        if todo:
            ok = await accept(todo)
            decided.update((i_, i_ in ok) for i_ in todo)
        accepted.extend(f for f in part if decided[f[1]])
        if len(accepted) > limit:
            break
    return accepted


def growth(found: int, wanted: int) -> float:
    """How much to widen the band after finding ``found`` of ``wanted`` rows in it.

    Assuming even density, the band must grow by sqrt(wanted / found); the margin makes one
    more step enough for most searches (each step is a round trip, which costs more than the
    extra rows), and a search that found nothing jumps far, since its area is sparse.
    """
    return max(GROWTH_MIN, math.sqrt(wanted / max(found, GROWTH_EMPTY)) * GROWTH_MARGIN)


def _within(
    rows: Iterable[Row], lat: float, lng: float, r: float, after: tuple[float, int] | None
) -> list[Found]:
    """The rows within ``r``, nearest first, as ``(distance, id, payload)``.

    This loop runs for every row a search reads, so ``haversine_m`` is inlined (the same
    operations in the same order, hence the same distances), with the query point's terms
    computed once; rows beyond the circle are dropped before the square root and arcsine.
    """
    rad, sin, cos, asin, sqrt = math.radians, math.sin, math.cos, math.asin, math.sqrt
    p1 = rad(lat)
    cos1 = cos(p1)
    # Haversine term of the radius, a hair loose: the exact test below decides at the edge.
    a_max = sin(min(math.pi / 2, r / (2 * EARTH_RADIUS_M))) ** 2 * (1 + 1e-9) + 1e-18
    found: list[Found] = []
    for id_, la, ln, payload in rows:
        p2 = rad(la)
        a = sin((p2 - p1) / 2) ** 2 + cos1 * cos(p2) * sin(rad(ln - lng) / 2) ** 2
        if a > a_max:
            continue
        d = 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(a)))
        if d <= r and (after is None or (d, id_) > after):
            found.append((d, id_, payload))
    found.sort(key=_DISTANCE_ID)
    return found
