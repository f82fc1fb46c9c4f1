"""One dispatch round: bundle the open orders, match bundles to couriers, commit late.

1. Orders whose food is ready within ``lookahead`` are planned; later ones wait (no courier
   should be tied up for them yet).
2. Couriers free within ``horizon`` are candidates, including busy ones (their last drop-off,
   when they finish) and ones about to start a shift: a planned match to such a courier keeps
   its bundle in the pool instead of sending a far idle courier.
3. Bundles are built per store, valuing a courier second by how short couriers are now.
4. ``linear_sum_assignment`` matches bundles to couriers or to "postpone": postponing costs
   the best the bundle could get a round later plus an age term, so a bundle only takes a
   worse courier than it could get if waiting would cost more, and an old order wins a contested
   courier over a fresh one (no order starves).
5. A match is sent only to an idle courier (MDRP: no new instruction while executing one,
   unless ``instruct_busy``) and only when the courier would not stand at the store for more than
   ``commit_slack`` before the food is ready: committing late keeps couriers free for what
   comes next, as in the MDRP literature's rolling-horizon policies.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from o2o.delivery.bundles import Bundle, BundleRules, build_bundles
from o2o.delivery.costs import INFEASIBLE, Weights, predict
from o2o.delivery.model import Assignment, Courier, OpenOrder, Plan, Snapshot
from o2o.delivery.routes import Service
from o2o.delivery.travel import StraightLine, Travel


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    round_seconds: float = 60.0
    service: Service = field(default_factory=Service)
    bundles: BundleRules = field(default_factory=BundleRules)
    weights: Weights = field(default_factory=Weights)
    lookahead: float = 1200.0  # plan orders whose food is ready within this many seconds
    horizon: float = 900.0  # couriers free within this are candidates (planned, not sent)
    commit_slack: float = 120.0  # send when the courier waits at most this long at the store
    age_weight: float = 0.5  # per second an order's food has been ready, when postponed
    courier_value: float = 0.2  # a courier second in seconds of customer delay, at ease
    scarcity_gain: float = 1.5  # ... plus this much per unit of demand over supply
    approach: float = 300.0  # typical seconds to reach a store, for the demand estimate
    instruct_busy: bool = False
    mode: str = "dummy"
    value_in_cost: bool = False
    lookahead_all: bool = False  # live mode: queue work behind a busy courier's route


def scarcity(orders: list[OpenOrder], couriers: list[Courier], now: float,
             config: DispatchConfig, travel: Travel) -> float:  # fmt: skip
    """Courier seconds the planned orders need over courier seconds on offer in the window."""
    speed = statistics.median(c.speed for c in couriers)
    per_visit = config.approach + config.service.pickup + config.service.dropoff
    demand = sum(per_visit + travel.seconds(o.pickup, o.dropoff, speed) for o in orders)
    end = now + config.lookahead
    supply = sum(max(0.0, min(end, c.shift_end) - max(now, c.free_at)) for c in couriers)
    return demand / max(supply, 1.0)


def _starts(orders: list[OpenOrder], couriers: list[Courier], now: float,
            travel: Travel) -> dict[str, float]:  # fmt: skip
    """Per store, the earliest any candidate courier could be there."""
    points = {o.store: o.pickup for o in orders}
    stores = list(points)
    origins = np.array([[c.position.x, c.position.y] for c in couriers], dtype=float)
    targets = np.array([[points[s].x, points[s].y] for s in stores], dtype=float)
    drive = travel.matrix(origins, targets, np.array([c.speed for c in couriers], dtype=float))
    free = np.maximum(np.array([c.free_at for c in couriers]), now)
    earliest = (free[:, None] + drive).min(axis=0)
    return {s: float(t) for s, t in zip(stores, earliest, strict=True)}


def _age(bundle: Bundle, now: float) -> float:
    return sum(max(0.0, now - o.ready_at) for o in bundle.orders)


def dispatch(
    snapshot: Snapshot, config: DispatchConfig | None = None, travel: Travel | None = None
) -> Plan:
    """Plan one round: which couriers to send where now; every other open order postponed."""
    config = config or DispatchConfig()
    travel = travel or StraightLine()
    now = snapshot.now
    couriers = [c for c in snapshot.couriers
                if c.free_at <= now + config.horizon and c.shift_end > max(now, c.free_at)]  # fmt: skip
    planned = [o for o in snapshot.orders if o.ready_at <= now + config.lookahead]
    plan = Plan(postponed=[o.id for o in snapshot.orders if o.ready_at > now + config.lookahead])
    if not planned or not couriers:
        plan.postponed += [o.id for o in planned]
        return plan
    value = config.courier_value + config.scarcity_gain * scarcity(
        planned, couriers, now, config, travel
    )
    bundles = build_bundles(
        planned, starts=_starts(planned, couriers, now, travel), courier_value=value,
        speed=statistics.median(c.speed for c in couriers), travel=travel,
        service=config.service, rules=config.bundles,
    )  # fmt: skip
    cv = value if config.value_in_cost else 1.0
    soon, later = (predict(bundles, couriers, now=now, delay=delay, travel=travel,
                           service=config.service, weights=config.weights, courier_value=cv)
                   for delay in (0.0, config.round_seconds))  # fmt: skip
    ages = np.array([_age(b, now) for b in bundles])
    postpone = np.full((len(bundles), len(bundles)), INFEASIBLE)
    if config.mode == "dummy":
        wait = later.cost.min(axis=1) + config.age_weight * ages
        np.fill_diagonal(postpone, np.minimum(wait, INFEASIBLE / 2))
        matrix = soon.cost
    elif config.mode == "marginal":
        np.fill_diagonal(postpone, 1e9)
        floor = predict(bundles, couriers, now=now, delay=0.0, travel=travel, service=config.service, weights=config.weights, floor=True).cost[:, 0]
        matrix = np.where(soon.cost >= INFEASIBLE, INFEASIBLE, soon.cost - floor[:, None] - config.age_weight * ages[:, None])
    else:
        np.fill_diagonal(postpone, 1e9)
        matrix = np.where(soon.cost >= INFEASIBLE, INFEASIBLE, soon.cost - config.age_weight * ages[:, None])
    rows, cols = linear_sum_assignment(np.hstack([matrix, postpone]))
    for b, k in zip(rows.tolist(), cols.tolist(), strict=True):
        bundle = bundles[b]
        ids = tuple(o.id for o in bundle.orders)
        if k >= len(couriers) or soon.cost[b, k] >= INFEASIBLE:
            plan.postponed += ids
            continue
        courier = couriers[k]
        busy = courier.free_at > now
        early = soon.arrival[b, k] + config.service.pickup / 2 < bundle.ready - config.commit_slack
        if (busy and not config.instruct_busy) or early:
            plan.postponed += ids
            continue
        plan.assignments.append(Assignment(courier.id, bundle.store, ids))
    return plan
