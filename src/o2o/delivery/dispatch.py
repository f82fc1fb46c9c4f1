"""One dispatch round: bundle the open orders, match bundles to couriers, commit late.

1. Orders whose food is ready within ``lookahead`` are planned; later ones wait (no courier
   should be tied up for them yet).
2. Couriers free within ``horizon`` are candidates, including busy ones (their last drop-off,
   when they finish) and ones about to start a shift: a planned match to such a courier keeps
   its bundle in the pool instead of sending a far idle courier.
3. Bundles are built per store, valuing a courier second by how short couriers are now
   (``scarcity``, past a knee): while couriers cover the demand a courier second is worth
   nothing and only merges that cost the customers nothing happen; when couriers are short,
   bundles are what keeps orders from waiting for a courier at all.
4. ``linear_sum_assignment`` matches bundles to couriers on ``costs.predict`` (excess over each
   order's bound, lateness and a bounded reward for being on time for orders that can still
   be, the courier's driving and standing time priced by the same scarcity, and a price on
   each second a busy courier is still busy: a match to it is only planned), less an age
   bonus: when bundles outnumber couriers, orders that can still be on time go first, and
   the oldest overtake them as they wait (no order starves).
5. A match is sent only to an idle courier (MDRP: no new instruction while executing one,
   unless ``instruct_busy``) and only when the courier would not stand at the store for more than
   ``commit_slack`` before the food is ready: committing late keeps couriers free for what
   comes next, as in the MDRP literature's rolling-horizon policies.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from o2o.delivery.bundles import Bundle, BundleRules, build_bundles
from o2o.delivery.costs import INFEASIBLE, Weights, predict
from o2o.delivery.model import Assignment, Courier, OpenOrder, Plan, Snapshot
from o2o.delivery.routes import Service
from o2o.delivery.travel import StraightLine, Travel

UNMATCHED = INFEASIBLE / 1e3  # "no courier this round": dearer than any feasible match


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    round_seconds: float = 60.0
    service: Service = field(default_factory=Service)
    bundles: BundleRules = field(default_factory=BundleRules)
    weights: Weights = field(default_factory=Weights)
    lookahead: float = 1200.0  # plan orders whose food is ready within this many seconds
    horizon: float = 900.0  # couriers free within this are candidates (planned, not sent)
    commit_slack: float = 120.0  # send when the courier waits at most this long at the store
    # priority per second an order's food has been ready: above the excess and lateness
    # weights together, so an old order's row only gets cheaper with time (no starvation)
    age_weight: float = 12.0
    # a courier second in seconds of customer delay: nothing while couriers cover the demand
    # (then bundling and courier travel would only cost customers), growing past the knee
    courier_value: float = 0.0
    scarcity_gain: float = 3.0  # ... plus this much per unit of demand over supply
    scarcity_knee: float = 1.0  # ... above this much demand over supply
    approach: float = 300.0  # typical seconds to reach a store, for the demand estimate
    instruct_busy: bool = False  # live mode: queue work behind a busy courier's route


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


def _blocked(bundles: list[Bundle], couriers: list[Courier],
             forbidden: frozenset[tuple[str, str]]) -> NDArray[np.bool_]:  # fmt: skip
    """bundles × couriers: True where the courier declined one of the bundle's orders."""
    blocked = np.zeros((len(bundles), len(couriers)), dtype=bool)
    if not forbidden:
        return blocked
    column = {c.id: k for k, c in enumerate(couriers)}
    declined: dict[str, list[int]] = {}
    for order_id, courier_id in forbidden:
        if courier_id in column:
            declined.setdefault(order_id, []).append(column[courier_id])
    for b, bundle in enumerate(bundles):
        for o in bundle.orders:
            blocked[b, declined.get(o.id, [])] = True
    return blocked


def _age(bundle: Bundle, now: float) -> float:
    return sum(max(0.0, now - o.ready_at) for o in bundle.orders)


def dispatch(
    snapshot: Snapshot, config: DispatchConfig | None = None, travel: Travel | None = None
) -> Plan:
    """Plan one round: which couriers to send where now; every other open order postponed."""
    config = config or DispatchConfig()
    travel = travel or StraightLine()
    now = snapshot.now
    couriers = [c for c in snapshot.couriers if c.free_at <= now + config.horizon
                and c.shift_end > max(now, c.free_at)]  # fmt: skip
    planned = [o for o in snapshot.orders if o.ready_at <= now + config.lookahead]
    plan = Plan(postponed=[o.id for o in snapshot.orders if o.ready_at > now + config.lookahead])
    if not planned or not couriers:
        plan.postponed += [o.id for o in planned]
        return plan
    ratio = scarcity(planned, couriers, now, config, travel)
    value = config.courier_value + config.scarcity_gain * max(0.0, ratio - config.scarcity_knee)
    bundles = build_bundles(
        planned, starts=_starts(planned, couriers, now, travel), courier_value=value,
        speed=statistics.median(c.speed for c in couriers), travel=travel,
        service=config.service, rules=config.bundles,
    )  # fmt: skip
    soon = predict(
        bundles,
        couriers,
        now=now,
        travel=travel,
        service=config.service,
        weights=config.weights,
        courier_value=value,
    )
    cost = np.where(_blocked(bundles, couriers, snapshot.forbidden), INFEASIBLE, soon.cost)
    # Rows compete for couriers when there are more bundles than couriers: the age bonus
    # outgrows the excess and lateness an old order has already run up, so it is served first.
    ages = np.array([_age(b, now) for b in bundles])
    matrix = np.where(cost >= INFEASIBLE, INFEASIBLE,
                      cost - config.age_weight * ages[:, None])  # fmt: skip
    # One "no courier this round" column per bundle, dearer than any feasible match: a bundle
    # goes unmatched only when couriers run out or none can take it.
    unmatched = np.full((len(bundles), len(bundles)), INFEASIBLE)
    np.fill_diagonal(unmatched, UNMATCHED)
    rows, cols = linear_sum_assignment(np.hstack([matrix, unmatched]))
    for b, k in zip(rows.tolist(), cols.tolist(), strict=True):
        bundle = bundles[b]
        ids = tuple(o.id for o in bundle.orders)
        if k >= len(couriers) or cost[b, k] >= INFEASIBLE:
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
