"""The round-time scale test: one generated city, ``orders`` open × ``couriers``, timed rounds.

Stores cluster around a few centres of a 20 km square (as restaurants do downtown); orders were
placed in the last half hour with food ready from ten minutes ago to twenty minutes ahead;
half the couriers are idle, the rest finish their current delivery within fifteen minutes.
Each timed round is a fresh city (seed + round), so the figure is not one lucky layout.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from o2o.bench.dispatch_metrics import quantile
from o2o.delivery.dispatch import DispatchConfig, dispatch
from o2o.delivery.model import Courier, OpenOrder, Point, Snapshot

SIDE = 20_000.0  # metres
NOW = 12 * 3600.0


@dataclass(slots=True)
class ScaleResult:
    orders: int
    couriers: int
    rounds: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    assigned_mean: float  # orders sent per round

    def as_dict(self) -> dict[str, float]:
        return {"orders": self.orders, "couriers": self.couriers, "rounds": self.rounds,
                "p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "max_ms": self.max_ms,
                "assigned_mean": self.assigned_mean}  # fmt: skip


def _near(rng: random.Random, centre: Point, sigma: float) -> Point:
    return Point(min(SIDE, max(0.0, rng.gauss(centre.x, sigma))),
                 min(SIDE, max(0.0, rng.gauss(centre.y, sigma))))  # fmt: skip


def city(orders: int, couriers: int, seed: int, stores: int = 400) -> Snapshot:
    rng = random.Random(seed)
    centres = [Point(rng.uniform(0, SIDE), rng.uniform(0, SIDE)) for _ in range(6)]
    places = [_near(rng, rng.choice(centres), 2_500.0) for _ in range(stores)]
    open_orders = []
    for i in range(orders):
        s = rng.randrange(stores)
        placed = NOW - rng.uniform(0, 1800)
        ready = max(placed + 300, NOW + rng.uniform(-600, 1200))
        open_orders.append(OpenOrder(f"o{i}", f"s{s}", places[s], _near(rng, places[s], 2_000.0),
                                     placed, ready, placed + 2400))  # fmt: skip
    fleet = tuple(
        Courier(f"c{k}", _near(rng, rng.choice(centres), 4_000.0),
                NOW if k % 2 == 0 else NOW + rng.uniform(0, 900),
                NOW + rng.uniform(3600, 4 * 3600))
        for k in range(couriers)
    )  # fmt: skip
    return Snapshot(NOW, tuple(open_orders), fleet)


def scale_test(orders: int = 1_000, couriers: int = 500, rounds: int = 20, seed: int = 7,
               config: DispatchConfig | None = None) -> ScaleResult:  # fmt: skip
    times, sent = [], []
    for r in range(rounds):
        snapshot = city(orders, couriers, seed + r)
        started = time.perf_counter()
        plan = dispatch(snapshot, config)
        times.append((time.perf_counter() - started) * 1e3)
        sent.append(len(plan.assigned()))
    return ScaleResult(orders, couriers, rounds, quantile(times, 0.5), quantile(times, 0.99),
                       max(times), sum(sent) / len(sent))  # fmt: skip
