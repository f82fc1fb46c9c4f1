"""The MDRP metrics of one simulated day (minutes unless the name says otherwise)."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from o2o.delivery.routes import bound
from o2o.delivery.simulate import Outcome


def quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


@dataclass(slots=True)
class Summary:
    instance: str
    policy: str
    orders: int
    delivered: int
    click_to_door_mean: float
    click_to_door_p50: float
    click_to_door_p90: float
    click_to_door_max: float
    on_time_share: float  # of all orders, delivered within the target
    attainable_share: float  # of all orders, whose bound is within the target
    on_time_of_attainable: float
    excess_mean: float  # click-to-door over the order's own bound, delivered orders
    excess_p90: float
    ready_to_pickup_mean: float  # food waiting
    orders_per_courier_hour: float
    utilization: float  # share of shift time on assignments
    bundle_sizes: dict[str, int]
    round_p50_ms: float
    round_p99_ms: float
    round_max_ms: float
    rounds: int
    refused: int
    click_to_door: list[float] = field(repr=False)

    def as_dict(self, *, distribution: bool = False) -> dict[str, Any]:
        out = asdict(self)
        if not distribution:
            del out["click_to_door"]
        return out


def summarize(outcome: Outcome, policy: str) -> Summary:
    inst = outcome.instance
    done = list(outcome.deliveries.values())
    n = len(inst.orders)
    ctd = [(d.dropoff - d.order.placed_at) / 60 for d in done]
    excess = [(d.dropoff - d.bound) / 60 for d in done]
    attainable = sum(1 for o in inst.orders
                     if bound(o, inst.speed, inst.travel, inst.service) - o.placed_at
                     <= inst.target)  # fmt: skip
    on_time = sum(1 for d in done if d.dropoff - d.order.placed_at <= inst.target)
    shift_hours = sum(s.off - s.on for s in inst.shifts) / 3600
    busy = sum(outcome.busy.values())
    ms = [c * 1e3 for c in outcome.compute]
    sizes = Counter(outcome.bundles)
    return Summary(
        instance=inst.name, policy=policy, orders=n, delivered=len(done),
        click_to_door_mean=statistics.fmean(ctd) if ctd else 0.0,
        click_to_door_p50=quantile(ctd, 0.5), click_to_door_p90=quantile(ctd, 0.9),
        click_to_door_max=max(ctd, default=0.0),
        on_time_share=on_time / n if n else 0.0, attainable_share=attainable / n if n else 0.0,
        on_time_of_attainable=on_time / attainable if attainable else 1.0,
        excess_mean=statistics.fmean(excess) if excess else 0.0,
        excess_p90=quantile(excess, 0.9),
        ready_to_pickup_mean=statistics.fmean((d.pickup - d.order.ready_at) / 60 for d in done)
        if done else 0.0,
        orders_per_courier_hour=len(done) / shift_hours if shift_hours else 0.0,
        utilization=busy / (shift_hours * 3600) if shift_hours else 0.0,
        bundle_sizes={str(k): sizes[k] for k in sorted(sizes)},
        round_p50_ms=quantile(ms, 0.5), round_p99_ms=quantile(ms, 0.99),
        round_max_ms=max(ms, default=0.0), rounds=len(ms), refused=len(outcome.refused),
        click_to_door=ctd,
    )  # fmt: skip
