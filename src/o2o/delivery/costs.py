"""The cost of each bundle × courier pair, computed for the whole round at once with NumPy.

Each entry predicts, by the same rules as ``routes.run_route``, when the courier would reach
the store and hand each order over, and prices: excess over each order's own bound (the
customer's wait beyond what physics forces), lateness against the promise for orders that can
still make it (weighted high: on-time share is what shoppers feel) less a reward for each of
them the match hands over in time, the courier standing at the store (capacity lost when
couriers are short) and driving empty, and each second a busy courier is still busy (a
match to it is a plan, not an instruction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from o2o.delivery.bundles import Bundle
from o2o.delivery.model import Courier
from o2o.delivery.routes import Service
from o2o.delivery.travel import Matrix, Travel

INFEASIBLE = 1e12  # finite: linear_sum_assignment rejects infinite-only rows


@dataclass(frozen=True, slots=True)
class Weights:
    excess: float = 1.0
    late: float = 4.0
    wait: float = 2.0  # times the round's courier value
    travel: float = 2.0  # times the round's courier value
    # a reward per order this match hands over within its promise: when couriers are short,
    # the orders that can still be on time go first; bounded, so the age bonus still wins
    on_time: float = 900.0
    # per order and second until a busy courier is free: a match to a busy courier is only
    # planned (the bundle stays in the pool and the courier may be matched elsewhere when it
    # comes free), so it is priced a little above an idle courier arriving as late
    reserve: float = 0.5


@dataclass(frozen=True, slots=True)
class Prediction:
    cost: Matrix  # bundles × couriers
    arrival: Matrix  # at the store
    pickup: Matrix


def _padded(bundles: Sequence[Bundle], width: int) -> tuple[Matrix, Matrix, Matrix, Matrix]:
    """Per bundle and slot: drop-off offset, bound, due time, and 1 where lateness counts."""
    shape = (len(bundles), width)
    offset, low, due, counts = (np.zeros(shape) for _ in range(4))
    for b, bundle in enumerate(bundles):
        for i, order in enumerate(bundle.orders):
            offset[b, i], low[b, i], due[b, i] = bundle.offsets[i], bundle.bounds[i], order.due_at
            counts[b, i] = 1.0 if bundle.bounds[i] <= order.due_at else 0.0
    return offset, low, due, counts


def predict(
    bundles: Sequence[Bundle], couriers: Sequence[Courier], *, now: float,
    travel: Travel, service: Service, weights: Weights, floor: bool = False,
    courier_value: float = 1.0,
) -> Prediction:  # fmt: skip
    """Costs if each courier set off as soon as it is free, but no earlier than
    ``now + delay`` (``delay`` > 0 prices waiting a round)."""
    stores = np.array([[b.pickup.x, b.pickup.y] for b in bundles], dtype=float)
    origins = np.array([[c.position.x, c.position.y] for c in couriers], dtype=float)
    speeds = np.array([c.speed for c in couriers], dtype=float)
    drive = travel.matrix(origins, stores, speeds).T  # bundles × couriers
    start = np.maximum(np.array([c.free_at for c in couriers]), now)
    arrival = start[None, :] + drive
    ready = np.array([b.ready for b in bundles])
    pickup = np.maximum(arrival + service.pickup / 2, ready[:, None])
    width = max(b.size for b in bundles)
    offset, low, due, counts = _padded(bundles, width)
    used = (np.arange(width)[None, :] < np.array([b.size for b in bundles])[:, None]).astype(float)
    leave = (pickup + service.pickup / 2)[:, :, None]  # bundles × couriers × 1
    drop = leave + offset[:, None, :]
    excess = ((drop - low[:, None, :]) * used[:, None, :]).sum(axis=2)
    late = (np.maximum(drop - due[:, None, :], 0.0) * counts[:, None, :]).sum(axis=2)
    kept = ((drop <= due[:, None, :]) * counts[:, None, :]).sum(axis=2)
    wait = np.maximum(ready[:, None] - (arrival + service.pickup / 2), 0.0)
    sizes = np.array([b.size for b in bundles])
    cost = (weights.excess * excess + weights.late * late - weights.on_time * kept
            + courier_value * (weights.wait * wait + weights.travel * drive)
            + weights.reserve * sizes[:, None] * (start - now)[None, :])  # fmt: skip
    shift_end = np.array([c.shift_end for c in couriers])
    capacity = np.array([c.capacity for c in couriers])
    infeasible = (pickup > shift_end[None, :]) | (sizes[:, None] > capacity[None, :])
    return Prediction(np.where(infeasible, INFEASIBLE, cost), arrival, pickup)
