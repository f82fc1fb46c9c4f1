"""How a simulated courier moves: pure geometry, no database.

A trip is a short list of waypoints along a street grid (first along one axis, then the
other, with a small jog in long legs), and each tick the courier covers at most
``speed × seconds`` metres of it, stopping exactly at the end.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

METRES_PER_DEGREE = 111_195.0


@dataclass(frozen=True)
class Point:
    lat: float
    lng: float


def _scale(lat: float) -> float:
    return METRES_PER_DEGREE * math.cos(math.radians(lat))


def metres(a: Point, b: Point) -> float:
    """Straight-line distance in metres (flat earth: fine within a city)."""
    mid = (a.lat + b.lat) / 2
    dy = (b.lat - a.lat) * METRES_PER_DEGREE
    dx = (b.lng - a.lng) * _scale(mid)
    return math.hypot(dx, dy)


def offset(p: Point, *, north_m: float, east_m: float) -> Point:
    return Point(p.lat + north_m / METRES_PER_DEGREE, p.lng + east_m / _scale(p.lat))


def path(start: Point, end: Point, *, rnd: random.Random | None = None) -> list[Point]:
    """Waypoints from ``start`` to ``end`` (``end`` last): an L along the street grid for
    trips longer than a block, with a light sideways jog of up to 60 m when ``rnd`` is given."""
    if metres(start, end) < 150:
        return [end]
    corner = (
        Point(end.lat, start.lng)
        if (rnd is None or rnd.random() < 0.5)
        else Point(start.lat, end.lng)
    )
    if rnd is not None:
        corner = offset(corner, north_m=rnd.uniform(-60, 60), east_m=rnd.uniform(-60, 60))
    return [corner, end]


@dataclass(frozen=True)
class Step:
    at: Point
    rest: list[Point]  # waypoints still ahead; empty once arrived
    moved_m: float

    @property
    def arrived(self) -> bool:
        return not self.rest


def advance(here: Point, waypoints: list[Point], *, speed_m_per_s: float, seconds: float) -> Step:
    """Cover at most ``speed × seconds`` metres along the waypoints, never past the last."""
    budget = max(0.0, speed_m_per_s * seconds)
    moved = 0.0
    rest = list(waypoints)
    while rest:
        target = rest[0]
        gap = metres(here, target)
        if gap <= budget - moved:
            moved += gap
            here = target
            rest.pop(0)
            continue
        share = (budget - moved) / gap
        here = Point(
            here.lat + (target.lat - here.lat) * share, here.lng + (target.lng - here.lng) * share
        )
        moved = budget
        break
    return Step(here, rest, moved)


def near(home: Point, rnd: random.Random, *, within_m: float = 400) -> Point:
    """A random spot within ``within_m`` of home: where an idle courier drifts to."""
    angle = rnd.uniform(0, 2 * math.pi)
    reach = within_m * math.sqrt(rnd.random())
    return offset(home, north_m=reach * math.sin(angle), east_m=reach * math.cos(angle))


def home_near(stores: list[Point], key: str, *, within_m: float = 600) -> Point:
    """A courier's home, the same for the same key and stores: near one of the stores."""
    rnd = random.Random(key)
    store = stores[rnd.randrange(len(stores))]
    spot = near(store, rnd, within_m=within_m)
    return Point(round(spot.lat, 6), round(spot.lng, 6))
