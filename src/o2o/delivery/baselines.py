"""The two baselines the benchmark runs beside ``dispatch``: same snapshot in, same plan out.

- ``greedy``: first come, first served; each order, oldest first, gets the idle courier that
  reaches its store soonest; no bundling, no waiting.
- ``matching``: an optimal matching of open orders to idle couriers on the predicted hand-over
  time; no bundling, no waiting.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from o2o.delivery.bundles import make_bundle
from o2o.delivery.costs import INFEASIBLE
from o2o.delivery.model import Assignment, Courier, OpenOrder, Plan, Snapshot
from o2o.delivery.routes import Service
from o2o.delivery.travel import Matrix, StraightLine, Travel


def _idle(snapshot: Snapshot) -> list[Courier]:
    return [c for c in snapshot.couriers
            if c.free_at <= snapshot.now < c.shift_end and c.capacity >= 1]  # fmt: skip


def _pickups(orders: list[OpenOrder], couriers: list[Courier], now: float, travel: Travel,
             service: Service) -> Matrix:  # fmt: skip
    """Orders × couriers: when each courier, leaving now, could pick each order up
    (``INFEASIBLE`` after its shift)."""
    stores = np.array([[o.pickup.x, o.pickup.y] for o in orders], dtype=float)
    origins = np.array([[c.position.x, c.position.y] for c in couriers], dtype=float)
    speeds = np.array([c.speed for c in couriers], dtype=float)
    arrival = now + travel.matrix(origins, stores, speeds).T
    ready = np.array([o.ready_at for o in orders])
    pickup = np.maximum(arrival + service.pickup / 2, ready[:, None])
    shift_end = np.array([c.shift_end for c in couriers])
    return np.where(pickup > shift_end[None, :], INFEASIBLE, pickup)


def greedy(snapshot: Snapshot, travel: Travel | None = None,
           service: Service | None = None) -> Plan:  # fmt: skip
    travel, service = travel or StraightLine(), service or Service()
    orders = sorted(snapshot.orders, key=lambda o: (o.placed_at, o.id))
    couriers = _idle(snapshot)
    plan = Plan()
    if not orders or not couriers:
        plan.postponed = [o.id for o in orders]
        return plan
    pickup = _pickups(orders, couriers, snapshot.now, travel, service)
    taken = np.zeros(len(couriers), dtype=bool)
    for i, order in enumerate(orders):
        row = np.where(taken, INFEASIBLE, pickup[i])
        k = int(row.argmin())
        if row[k] >= INFEASIBLE:
            plan.postponed.append(order.id)
            continue
        taken[k] = True
        plan.assignments.append(Assignment(couriers[k].id, order.store, (order.id,)))
    return plan


def matching(snapshot: Snapshot, travel: Travel | None = None,
             service: Service | None = None) -> Plan:  # fmt: skip
    travel, service = travel or StraightLine(), service or Service()
    orders = list(snapshot.orders)
    couriers = _idle(snapshot)
    plan = Plan()
    if not orders or not couriers:
        plan.postponed = [o.id for o in orders]
        return plan
    pickup = _pickups(orders, couriers, snapshot.now, travel, service)
    speed = couriers[0].speed
    direct = np.array([make_bundle([o], speed, travel, service).offsets[0] for o in orders])
    handover = np.where(pickup >= INFEASIBLE, INFEASIBLE, pickup + direct[:, None])
    rows, cols = linear_sum_assignment(handover - snapshot.now)
    matched: set[int] = set()
    for i, k in zip(rows.tolist(), cols.tolist(), strict=True):
        if handover[i, k] < INFEASIBLE:
            matched.add(i)
            plan.assignments.append(Assignment(couriers[k].id, orders[i].store, (orders[i].id,)))
    plan.postponed = [o.id for i, o in enumerate(orders) if i not in matched]
    return plan
