"""Bundles: orders of one store (up to the bundle limit) that one courier carries together.

A bundle saves a courier the trip to the store and the pickup service of each order after the
first, and costs the later customers the detour through the earlier ones and any wait for the
last order's food. Orders are merged greedily by that trade, with a courier second valued by
``courier_value`` (how scarce couriers are this round, see ``dispatch.scarcity``): when couriers
are plenty only merges that cost the customers almost nothing happen; when they are short,
bundling is what keeps orders from waiting for a courier at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from o2o.delivery.model import OpenOrder, Point
from o2o.delivery.routes import Service, best_sequence, bound, drop_offsets
from o2o.delivery.travel import Travel


@dataclass(frozen=True, slots=True)
class Bundle:
    store: str
    pickup: Point
    orders: tuple[OpenOrder, ...]  # in drop-off order
    offsets: tuple[float, ...]  # hand-over, seconds after leaving the store
    bounds: tuple[float, ...]  # each order's earliest possible hand-over
    ready: float  # the latest ready time: pickup waits for it
    duration: float  # leaving the store to leaving the last customer

    @property
    def size(self) -> int:
        return len(self.orders)


@dataclass(frozen=True, slots=True)
class BundleRules:
    max_size: int = 3
    window: float = 600.0  # most seconds between the first and last ready time in a bundle
    lateness_weight: float = 4.0  # a second late against the promise, in seconds of excess
    # a reward per order handed over within its promise (only orders whose bound is within
    # it), as in the matching: a merge that makes a savable order late loses it whole
    on_time: float = 900.0


def make_bundle(
    orders: Sequence[OpenOrder], speed: float, travel: Travel, service: Service
) -> Bundle:
    first = orders[0]
    sequence = best_sequence(first.pickup, orders, speed, travel, service)
    offsets = drop_offsets(first.pickup, sequence, speed, travel, service)
    return Bundle(
        first.store, first.pickup, sequence, offsets,
        tuple(bound(o, speed, travel, service) for o in sequence),
        max(o.ready_at for o in sequence), offsets[-1] + service.dropoff / 2,
    )  # fmt: skip


def _delay(bundle: Bundle, start: float, service: Service, rules: BundleRules) -> float:
    """Excess over the bounds, plus weighted lateness less the on-time reward, if picked up
    as early as possible after ``start``."""
    leave = max(bundle.ready, start) + service.pickup / 2
    total = 0.0
    for order, offset, low in zip(bundle.orders, bundle.offsets, bundle.bounds, strict=True):
        drop = leave + offset
        total += drop - low
        if low <= order.due_at:  # lateness counts only where being on time was possible
            late = drop - order.due_at
            total += rules.lateness_weight * late if late > 0 else -rules.on_time
    return total


def _merge_score(
    a: Bundle, b: Bundle, merged: Bundle, *, start: float, courier_value: float,
    service: Service, rules: BundleRules, approach: float = 300.0,
) -> float:  # fmt: skip
    """Courier seconds saved (valued) minus the customers' extra delay."""

    def busy(x: Bundle) -> float:
        return approach + max(0.0, x.ready - start) + service.pickup + x.duration

    saved = busy(a) + busy(b) - busy(merged)
    extra = (_delay(merged, start, service, rules) - _delay(a, start, service, rules)
             - _delay(b, start, service, rules))  # fmt: skip
    return courier_value * saved - extra


def build_bundles(
    orders: Sequence[OpenOrder], *, starts: Mapping[str, float], courier_value: float,
    speed: float, travel: Travel, service: Service, rules: BundleRules,
) -> list[Bundle]:  # fmt: skip
    """Each order in exactly one bundle; ``starts`` is, per store, the earliest a courier
    could be there."""
    by_store: dict[str, list[OpenOrder]] = defaultdict(list)
    for order in orders:
        by_store[order.store].append(order)
    out: list[Bundle] = []
    for store, group in by_store.items():
        start = starts[store]
        # Seed with the earliest food, grow it by the best partner while that pays, close it,
        # repeat: pairing everything first (plain savings) strands full bundles at 2 + 1.
        rest = sorted(group, key=lambda o: (o.ready_at, o.placed_at, o.id))
        while rest:
            bundle = make_bundle([rest.pop(0)], speed, travel, service)
            while rest and bundle.size < rules.max_size:
                best: tuple[float, int, Bundle] | None = None
                for i, candidate in enumerate(rest):
                    both = (*bundle.orders, candidate)
                    if max(o.ready_at for o in both) - min(o.ready_at for o in both) > rules.window:
                        continue
                    single = make_bundle([candidate], speed, travel, service)
                    merged = make_bundle(both, speed, travel, service)
                    score = _merge_score(bundle, single, merged, start=start,
                                         courier_value=courier_value, service=service,
                                         rules=rules)  # fmt: skip
                    if score > 0 and (best is None or score > best[0]):
                        best = (score, i, merged)
                if best is None:
                    break
                bundle = best[2]
                del rest[best[1]]
            out.append(bundle)
    return out
