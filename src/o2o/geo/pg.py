"""Exact k-nearest search run by PostgreSQL itself: one statement per page.

On PostgreSQL a round trip and the rows sent back cost more than the search, so the whole
expanding search of ``o2o.geo.knn`` runs server-side. The statement gets the grid covers of a
few circles of growing radius ("tiers", the last one the full radius) and evaluates them in
turn: for each tier, the rows in its cover within its radius and after the keyset, nearest
first, ``LIMIT k``. The first tier that yields ``k`` rows is the answer, because everything
outside a circle is farther than everything inside it; the last tier is the answer otherwise.

The tiers are rows of ``unnest(radii)`` joined ``LATERAL`` to one tier query under a
``LIMIT k``: once a tier's ``k`` rows have gone out, the limit stops the nested loop and the
wider tiers never run. One copy of the tier query (not one per tier) matters: PostgreSQL
initialises every expression of a plan on every execution, and the distance expression is
the biggest.

Distances are computed in SQL with the operations of ``o2o.geo.distance.haversine_m`` in the
same order on the same C library, so they are bit-identical to Python's (tested), and the
keyset ``(distance, id)`` of a page agrees with the SQLite path and the brute-force oracle.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from o2o.geo.distance import EARTH_RADIUS_M
from o2o.geo.grid import COLUMNS, SLACK_DEG, cap_bounds, column_of, cover_ranges, row_of
from o2o.geo.knn import Accept, Hit

# Tiers: the first circle, then circles growing by this factor up to the radius. Tuned on the
# G1/G2 data (o2o bench geo): a tier that finds too few costs an index seek per grid row and
# its rows read again by the next one, so tiers grow fast; the median G1 search needs
# ~2 km (fewer tiers measured better than more: each costs about as much as 50 rows).
FIRST_TIER_M = 2_000.0
TIER_GROWTH = 2.5
# A tier within this factor of the full radius is not worth its own pass.
TIER_MIN_GAP = 1.25
# Rows asked of the server per pass when Python filters the hits (open-now).
ACCEPT_CHUNK = 64

# The haversine distance of row ``t`` from the query point, as ``haversine_m`` computes it:
# ``p1`` and ``cos1`` are Python's ``radians(lat)`` and ``cos(radians(lat))``.
DISTANCE = (
    f"(2 * {EARTH_RADIUS_M!r}::float8) * asin(least(1.0::float8, sqrt("
    "power(sin((radians(t.lat) - $p1:float8) / 2), 2)"
    " + $cos1:float8 * cos(radians(t.lat)) * power(sin(radians(t.lng - $lng:float8) / 2), 2))))"
)
# The ranges of every tier's cover, unnested; ``g.t`` is the tier a range belongs to.
# They are bound as array literals (text): asyncpg checks every element of a list it encodes
# as an array, which costs more than formatting the numbers.
RANGES = (
    "unnest(CAST($lo:text AS int4[]), CAST($hi:text AS int4[]), CAST($tier:text AS int4[]))"
    " AS g(lo, hi, t)"
)
# Which rows of a tier may be returned: within its radius, after the keyset.
# The tier circle's bounding box, on the index's own columns: rows outside it are dropped
# before the trigonometry (a box cover's corners hold a third or more of its rows).
IN_BOX = "t.lat BETWEEN tier.s AND tier.n AND t.lng BETWEEN tier.w AND tier.e"
IN_TIER = "g.t = tier.i AND c.d <= tier.r AND (c.d, c.id) > ($after_d:float8, $after_id:int8)"
LIMIT = "$k:int8"

_PARAM = re.compile(r"\$([a-z_0-9]+):([a-z0-9]+(?:\[\])?)")


@dataclass(frozen=True, slots=True)
class Statement:
    """SQL with positional parameters, and the names of the values they take, in order."""

    sql: str
    names: tuple[str, ...]


def compile_sql(text: str) -> Statement:
    """``$name:type`` placeholders to ``(SELECT $n::type)``.

    The subselect hides the value from the planner when it plans a prepared statement: every
    value then gets the same estimate, so the generic plan is chosen once and reused instead
    of being planned again on every execution, which costs more than the query.
    """
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        name, type_ = match.groups()
        if name not in names:
            names.append(name)
        opaque = f"(SELECT ${names.index(name) + 1}::{type_})"
        # ``= ANY ((SELECT …))`` would parse as a subquery comparison, not an array's.
        return f"CAST({opaque} AS {type_})" if type_.endswith("[]") else opaque

    return Statement(_PARAM.sub(placeholder, text), tuple(names))


def search_statement(tier_rows: str) -> Statement:
    """The whole search around ``tier_rows``: a select of ``id, d, payload…`` for the tier
    ``tier(r, i)``, nearest first, at most ``LIMIT`` rows. Returns ``id, d, payload…, n``."""
    return compile_sql(
        "SELECT s.* FROM unnest($radii:float8[], $south:float8[], $north:float8[], "  # noqa: S608 (constant SQL)
        "$west:float8[], $east:float8[]) WITH ORDINALITY AS tier(r, s, n, w, e, i) "
        f"CROSS JOIN LATERAL (SELECT y.*, count(*) OVER () AS n FROM ({tier_rows}) y) s "
        f"WHERE s.n >= {LIMIT} OR tier.i = cardinality($radii:float8[]) "
        f"LIMIT {LIMIT}"
    )


def tier_radii(start: float, radius_m: float, wanted: int, limit: int) -> list[float]:
    """Radii of the tiers for ``wanted`` rows beyond distance ``start`` (a page's keyset).

    Circles for more rows than a page start wider, by the square root (rows grow with area).
    """
    first = FIRST_TIER_M * math.sqrt(max(1.0, wanted / (limit + 1)))
    radii: list[float] = []
    r = first
    while start + r * TIER_MIN_GAP < radius_m:
        radii.append(start + r)
        r *= TIER_GROWTH
    radii.append(radius_m)
    return radii


def search_values(
    lat: float, lng: float, radii: list[float], after: tuple[float, int] | None, k: int
) -> dict[str, Any]:
    """The values of a search statement's common parameters."""
    p1 = math.radians(lat)
    lo: list[int] = []
    hi: list[int] = []
    tiers: list[int] = []
    boxes = [tier_box(lat, lng, r) for r in radii]
    for i, r in enumerate(radii, 1):
        for a, b in box_ranges(lat, lng, r):
            lo.append(a)
            hi.append(b)
            tiers.append(i)
    after_d, after_id = after if after else (-1.0, 0)
    return {
        "p1": p1,
        "cos1": math.cos(p1),
        "lng": lng,
        "radii": radii,
        "lo": _array(lo),
        "hi": _array(hi),
        "tier": _array(tiers),
        "south": [b[0] for b in boxes],
        "north": [b[1] for b in boxes],
        "west": [b[2] for b in boxes],
        "east": [b[3] for b in boxes],
        "after_d": after_d,
        "after_id": after_id,
        "k": k,
    }


def _array(values: list[int]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def tier_box(lat: float, lng: float, r: float) -> tuple[float, float, float, float]:
    """South, north, west, east of the circle's bounding box, with ``cover_ranges``' slack
    (the whole globe's longitudes around a pole or across the antimeridian)."""
    min_lat, max_lat, min_lng, dlng = cap_bounds(lat, lng, r)
    south, north = min_lat - SLACK_DEG, max_lat + SLACK_DEG
    if dlng is None or min_lng - SLACK_DEG < -180.0 or lng + dlng + SLACK_DEG > 180.0:
        return south, north, -180.0, 180.0
    return south, north, min_lng - SLACK_DEG, lng + dlng + SLACK_DEG


def box_ranges(lat: float, lng: float, r: float) -> list[tuple[int, int]]:
    """A cover of the circle: per grid row of its bounding box, the columns of the whole box.

    Unlike ``cover_ranges`` it does not narrow the rows near the top and bottom of the circle,
    so a search reads a few more index entries; it costs a tenth as much to compute, which
    matters more here (where the server does the rest). The box and its slack are those of
    ``cover_ranges``, so it contains that cover. A box around a pole or across the
    antimeridian is left to ``cover_ranges``.
    """
    min_lat, max_lat, min_lng, dlng = cap_bounds(lat, lng, r)
    if dlng is None or min_lng - SLACK_DEG < -180.0 or lng + dlng + SLACK_DEG > 180.0:
        return cover_ranges(lat, lng, r)
    west, east = column_of(min_lng - SLACK_DEG), column_of(lng + dlng + SLACK_DEG)
    return [
        (row * COLUMNS + west, row * COLUMNS + east)
        for row in range(row_of(min_lat), row_of(max_lat) + 1)
    ]


async def fetch(conn: AsyncConnection, stmt: Statement, values: dict[str, Any]) -> list[Any]:
    """The rows of ``stmt``, run by asyncpg on the session's connection (prepared and cached
    by asyncpg: SQLAlchemy's own per-statement work would cost more than the query)."""
    sync = conn.sync_connection
    if sync is not None and not sync.closed and not sync.invalidated:
        # Checked out and valid: reading the DBAPI connection does no I/O, so the greenlet
        # hop of ``get_raw_connection`` (~8 µs, a few percent of a search) is not needed.
        raw = sync.connection.driver_connection
    else:
        raw = (await conn.get_raw_connection()).driver_connection
    rows: list[Any] = await raw.fetch(stmt.sql, *[values[name] for name in stmt.names])  # type: ignore[union-attr]
    return rows


Payload = Callable[[Any], Any]


async def nearest(
    conn: AsyncConnection,
    stmt: Statement,
    *,
    lat: float,
    lng: float,
    radius_m: float,
    limit: int,
    values: dict[str, Any],
    payload: Payload,
    after: tuple[float, int] | None = None,
    accept: Accept | None = None,
) -> tuple[list[Hit], bool]:
    """The ``limit`` nearest rows within ``radius_m`` after ``after`` that ``accept`` passes,
    and whether more exist. ``values`` binds the statement's own parameters; ``payload`` turns
    a returned row into a hit's payload.

    Without ``accept`` this is one statement. With it, the server's exact stream is read in
    chunks, each continuing from the last row of the one before, until enough pass.
    """
    kept: list[tuple[float, int, Any]] = []
    cursor = after
    while True:
        k = limit + 1 if accept is None else max(ACCEPT_CHUNK, limit + 1 - len(kept))
        start = cursor[0] if cursor else 0.0
        radii = tier_radii(start, radius_m, k, limit)
        rows = await fetch(conn, stmt, {**values, **search_values(lat, lng, radii, cursor, k)})
        # The answering tier's rows come in its order; sorting (ids are unique, so records
        # are never compared) makes that explicit for a few microseconds.
        found: list[tuple[float, int, Any]] = sorted([(row[1], row[0], row) for row in rows])
        if accept is None:
            kept = found
        else:
            ok = await accept([f[1] for f in found]) if found else set()
            kept.extend(f for f in found if f[1] in ok)
        if len(kept) > limit or len(found) < k:
            return [Hit(d, id_, payload(row)) for d, id_, row in kept[:limit]], len(kept) > limit
        cursor = found[-1][0], found[-1][1]


def ids_payload(row: Any) -> Any:
    return row[0]


def first_payload(row: Any) -> Any:
    return row[2]
