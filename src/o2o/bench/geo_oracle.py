"""The brute-force oracle of the geo benchmarks, and how a system's answer is graded.

The oracle computes the great-circle distance from the query point to every candidate with
NumPy and keeps the ``k`` nearest by ``(distance, id)`` within the radius. A system's answer
is graded with the oracle's own distances for the ids it returned, so a system cannot pass by
reporting convenient distances: a returned id that is not a candidate, or lies outside the
radius, counts as infinitely far. Two stores at the same distance (within ``TIE_M``) may come
in either order, and either may take the last place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from o2o.bench.geo_data import F64, I64, GeoData
from o2o.geo.distance import EARTH_RADIUS_M

TIE_M = 1e-6


def haversine_np(lat: float, lng: float, lats: F64, lngs: F64) -> F64:
    """Distances in metres from one point to many (all in degrees), like ``haversine_m``."""
    p1 = np.radians(lat)
    p2 = np.radians(lats)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lngs - lng) / 2) ** 2
    )
    d: F64 = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return d


@dataclass(slots=True)
class Grade:
    """Totals over many queries: recall is found / expected; exact needs order too."""

    queries: int = 0
    expected: int = 0
    found: int = 0
    exact: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    @property
    def exact_share(self) -> float:
        return self.exact / self.queries if self.queries else 1.0

    def add(self, other: Grade) -> None:
        self.queries += other.queries
        self.expected += other.expected
        self.found += other.found
        self.exact += other.exact


class Oracle:
    """Exact answers for G1 (active stores) and G2 (active stores with the variant available)."""

    def __init__(self, data: GeoData) -> None:
        self.lat = data.store_lat
        self.lng = data.store_lng
        self.active = data.store_active
        ok = (data.stock_available >= 1) & data.store_active[data.stock_store - 1]
        order = np.argsort(data.stock_variant[ok], kind="stable")
        self._variants = data.stock_variant[ok][order]
        self._stores = data.stock_store[ok][order]
        self._active_ids = data.store_ids[self.active]

    def candidates(self, variant: int | None) -> I64:
        """Store ids that may be returned: active, and stocking ``variant`` when given."""
        if variant is None:
            return self._active_ids
        lo, hi = np.searchsorted(self._variants, [variant, variant + 1])
        return self._stores[lo:hi]

    def nearest(
        self, lat: float, lng: float, radius_m: float, k: int, variant: int | None = None
    ) -> tuple[I64, F64]:
        """Ids and distances of the ``k`` nearest candidates within the radius."""
        ids = self.candidates(variant)
        d = haversine_np(lat, lng, self.lat[ids - 1], self.lng[ids - 1])
        inside = d <= radius_m
        ids, d = ids[inside], d[inside]
        order = np.lexsort((ids, d))[:k]
        return ids[order], d[order]

    def grade(
        self,
        lat: float,
        lng: float,
        radius_m: float,
        variant: int | None,
        got: list[int],
        truth: tuple[I64, F64],
    ) -> Grade:
        """How much of ``truth`` the answer ``got`` found, and whether it is exactly right."""
        want_ids, want_d = truth
        got_d = self.distances(lat, lng, radius_m, variant, got)
        want = set(want_ids.tolist())
        found = 0
        seen: set[int] = set()
        last = float(want_d[-1]) if len(want_d) else -1.0
        for sid, d in zip(got, got_d.tolist(), strict=True):
            if sid in seen:
                continue
            seen.add(sid)
            if sid in want or abs(d - last) <= TIE_M:
                found += 1
        found = min(found, len(want_ids))
        ordered = len(got) == len(want_ids) and bool(
            np.all(np.abs(got_d - want_d) <= TIE_M) if len(got) else True
        )
        exact = int(ordered and found == len(want_ids) and len(seen) == len(got))
        return Grade(queries=1, expected=len(want_ids), found=found, exact=exact)

    def distances(
        self, lat: float, lng: float, radius_m: float, variant: int | None, ids: list[int]
    ) -> F64:
        """The oracle's distances of ``ids``; infinite for ids that are not valid answers."""
        if not ids:
            return np.zeros(0)
        arr = np.asarray(ids, dtype=np.int64)
        valid = np.isin(arr, self.candidates(variant))
        safe = np.where(valid, arr, 1) - 1
        d = haversine_np(lat, lng, self.lat[safe], self.lng[safe])
        return np.where(valid & (d <= radius_m), d, np.inf)
