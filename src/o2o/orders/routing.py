"""Where a shipped order ships from: the best source with everything, else the fewest sources.

Pure: it sees candidate stores (or warehouses) with their distance to the address and what
they have available, and returns the split. ``score`` ranks sources (lower is better; the
default is distance), so a merchant can weigh in cost, workload or stock depth instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Source:
    store_id: int
    distance_m: float
    available: dict[int, int] = field(default_factory=dict)  # variant -> units


Score = Callable[[Source], float]


def nearest(source: Source) -> float:
    return source.distance_m


def route(
    need: dict[int, int], sources: list[Source], *, score: Score = nearest
) -> list[tuple[int, dict[int, int]]] | None:
    """``[(store_id, {variant: qty})]`` covering ``need``, or None if all together cannot.

    One source when any has everything (the best by ``score``); otherwise greedily the source
    that covers the most remaining units (ties to the better score), which needs at most a
    logarithmic factor more sources than the fewest possible and is exact for two.
    """
    ranked = sorted(sources, key=lambda s: (score(s), s.store_id))
    for source in ranked:
        if all(source.available.get(v, 0) >= q for v, q in need.items()):
            return [(source.store_id, dict(need))]
    remaining = {v: q for v, q in need.items() if q > 0}
    plan: list[tuple[int, dict[int, int]]] = []
    unused = list(ranked)
    while remaining:

        def covers(source: Source) -> int:
            return sum(min(source.available.get(v, 0), q) for v, q in remaining.items())

        best = max(unused, key=covers, default=None)
        if best is None or covers(best) == 0:
            return None
        take = {
            v: min(best.available.get(v, 0), q)
            for v, q in remaining.items()
            if best.available.get(v, 0) > 0
        }
        plan.append((best.store_id, take))
        unused.remove(best)
        for v, q in take.items():
            remaining[v] -= q
            if remaining[v] == 0:
                del remaining[v]
    return plan
