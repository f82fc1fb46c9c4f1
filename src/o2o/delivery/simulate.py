"""Replay a day (orders and courier shifts) through a dispatch policy on a simulated clock.

Every ``round_seconds`` the policy gets a ``Snapshot`` of the orders placed and not yet assigned
and of the couriers whose shift has not ended, exactly as the live system builds one, and its
plan is executed by the MDRP rules (``routes.run_route``). The simulator refuses what the rules
forbid and counts it (``Outcome.refused``): an order not open, orders of two stores in one
bundle, more orders than the courier carries, a pickup after the courier's shift, and, in MDRP
mode, any instruction to a courier still executing one. Refused orders stay open.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from o2o.delivery.model import Assignment, Courier, OpenOrder, Plan, Point, Snapshot
from o2o.delivery.routes import Service, Timeline, bound, run_route
from o2o.delivery.travel import StraightLine, Travel

Policy = Callable[[Snapshot], Plan]


@dataclass(frozen=True, slots=True)
class Shift:
    courier: str
    position: Point
    on: float
    off: float


@dataclass(frozen=True, slots=True)
class Instance:
    name: str
    orders: tuple[OpenOrder, ...]  # due_at = placed_at + target
    shifts: tuple[Shift, ...]
    speed: float  # metres per second
    service: Service
    target: float  # seconds, click-to-door
    travel: Travel = field(default_factory=lambda: StraightLine(step=60.0))
    capacity: int = 3


@dataclass(frozen=True, slots=True)
class Delivery:
    order: OpenOrder
    courier: str
    assigned_at: float
    pickup: float
    dropoff: float
    bound: float  # the earliest possible hand-over
    bundle: int  # orders in the courier's bundle


@dataclass(slots=True)
class Outcome:
    instance: Instance
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    compute: list[float] = field(default_factory=list)  # seconds of policy time per round
    busy: dict[str, float] = field(default_factory=dict)  # courier → seconds on assignments
    bundles: list[int] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Courier:
    shift: Shift
    position: Point
    free_at: float


class _Day:
    def __init__(self, instance: Instance, live: bool) -> None:
        self.instance, self.live = instance, live
        self.out = Outcome(instance)
        self.couriers = {s.courier: _Courier(s, s.position, s.on) for s in instance.shifts}

    def snapshot(self, now: float, open_orders: dict[str, OpenOrder]) -> Snapshot:
        couriers = tuple(
            Courier(c.shift.courier, c.position, max(c.free_at, c.shift.on), c.shift.off,
                    self.instance.speed, self.instance.capacity)
            for c in self.couriers.values() if c.shift.off > now
        )  # fmt: skip
        return Snapshot(now, tuple(open_orders.values()), couriers)

    def execute(self, now: float, a: Assignment, open_orders: dict[str, OpenOrder]) -> None:
        courier = self.couriers.get(a.courier_id)
        orders = [open_orders.get(i) for i in a.orders]
        why = self._refusal(now, a, courier, orders)
        if why or courier is None:
            self.out.refused.append(f"{now:.0f}s {a.courier_id} {a.orders}: {why}")
            return
        picked = [o for o in orders if o is not None]
        start = max(now, courier.free_at, courier.shift.on)
        inst = self.instance
        line: Timeline = run_route(start=start, position=courier.position, store=picked[0].pickup,
                                   orders=picked, speed=inst.speed, travel=inst.travel,
                                   service=inst.service)  # fmt: skip
        if line.pickup > courier.shift.off:
            self.out.refused.append(f"{now:.0f}s {a.courier_id} {a.orders}: pickup after shift")
            return
        for order, drop in zip(picked, line.dropoffs, strict=True):
            low = bound(order, inst.speed, inst.travel, inst.service)
            self.out.deliveries[order.id] = Delivery(order, a.courier_id, now, line.pickup,
                                                     drop, low, len(picked))  # fmt: skip
            del open_orders[order.id]
        self.out.bundles.append(len(picked))
        self.out.busy[a.courier_id] = self.out.busy.get(a.courier_id, 0.0) + line.free_at - start
        courier.position, courier.free_at = line.end, line.free_at

    def _refusal(self, now: float, a: Assignment, courier: _Courier | None,
                 orders: list[OpenOrder | None]) -> str:  # fmt: skip
        if courier is None:
            return "unknown courier"
        if any(o is None for o in orders) or len(set(a.orders)) != len(orders) or not orders:
            return "an order that is not open"
        if len({o.store for o in orders if o is not None}) != 1:
            return "orders of more than one store"
        if len(orders) > self.instance.capacity:
            return "more orders than the courier carries"
        if not self.live and max(courier.free_at, courier.shift.on) > now:
            return "courier busy or not on shift (MDRP: no instruction while executing one)"
        return ""


def simulate(
    instance: Instance, policy: Policy, *, round_seconds: float = 60.0, live: bool = False,
    clock: Callable[[], float] = time.perf_counter,
    progress: Callable[[float], None] | None = None,
) -> Outcome:  # fmt: skip
    """Run the day to its end: until every order is handed out or no shift is left."""
    day = _Day(instance, live)
    pending = sorted(instance.orders, key=lambda o: (o.placed_at, o.id))
    last_shift = max((s.off for s in instance.shifts), default=0.0)
    open_orders: dict[str, OpenOrder] = {}
    now = math.floor(pending[0].placed_at / round_seconds) * round_seconds if pending else 0.0
    i = 0
    while (i < len(pending) or open_orders) and now < last_shift:
        while i < len(pending) and pending[i].placed_at <= now:
            open_orders[pending[i].id] = pending[i]
            i += 1
        if open_orders:
            snap = day.snapshot(now, open_orders)
            started = clock()
            plan = policy(snap)
            day.out.compute.append(clock() - started)
            for assignment in plan.assignments:
                day.execute(now, assignment, open_orders)
        if progress:
            progress(now)
        now += round_seconds
    return day.out
