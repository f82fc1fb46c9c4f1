"""The timing of one assignment (one store, up to ``capacity`` orders), by the MDRP rules.

Pickup happens at max(latest ready time, arrival + half the pickup service); the courier leaves
half a service later; each order is handed over half a drop-off service after arriving at the
customer and the courier moves on half a service after that. The simulator executes exactly
this, and the dispatcher predicts with it, so a plan's estimate is what the day then does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import permutations

from o2o.delivery.model import OpenOrder, Point
from o2o.delivery.travel import Travel


@dataclass(frozen=True, slots=True)
class Service:
    """Service times in seconds, split in halves around the moment of hand-over."""

    pickup: float = 240.0
    dropoff: float = 240.0


@dataclass(frozen=True, slots=True)
class Timeline:
    arrival: float  # at the store
    pickup: float
    departure: float
    dropoffs: tuple[float, ...]  # one per order, in route order
    free_at: float  # leaving the last customer
    end: Point


def drop_offsets(
    store: Point, orders: Sequence[OpenOrder], speed: float, travel: Travel, service: Service
) -> tuple[float, ...]:
    """Seconds from leaving the store to each hand-over, visiting ``orders`` in this order."""
    out: list[float] = []
    here, clock = store, 0.0
    for order in orders:
        clock += travel.seconds(here, order.dropoff, speed) + service.dropoff / 2
        out.append(clock)
        clock += service.dropoff / 2
        here = order.dropoff
    return tuple(out)


def run_route(
    *, start: float, position: Point, store: Point, orders: Sequence[OpenOrder], speed: float,
    travel: Travel, service: Service,
) -> Timeline:  # fmt: skip
    """When each thing happens if a courier at ``position`` sets off at ``start``."""
    arrival = start + travel.seconds(position, store, speed)
    ready = max(o.ready_at for o in orders)
    pickup = max(ready, arrival + service.pickup / 2)
    departure = pickup + service.pickup / 2
    drops = tuple(departure + d for d in drop_offsets(store, orders, speed, travel, service))
    return Timeline(arrival, pickup, departure, drops, drops[-1] + service.dropoff / 2,
                    orders[-1].dropoff)  # fmt: skip


def best_sequence(
    store: Point, orders: Sequence[OpenOrder], speed: float, travel: Travel, service: Service
) -> tuple[OpenOrder, ...]:
    """The drop-off order with the smallest total of hand-over times (ties: the shorter
    route). Every order shares the pickup, so this also minimises the total excess over each
    order's own bound; at most 3! = 6 sequences are tried."""
    best: tuple[OpenOrder, ...] = tuple(orders)
    best_key = (float("inf"), float("inf"))
    for sequence in permutations(orders):
        offsets = drop_offsets(store, sequence, speed, travel, service)
        key = (sum(offsets), offsets[-1])
        if key < best_key:
            best, best_key = sequence, key
    return best


def bound(order: OpenOrder, speed: float, travel: Travel, service: Service) -> float:
    """The earliest possible hand-over: ready, served, driven straight to the customer."""
    direct = travel.seconds(order.pickup, order.dropoff, speed)
    return order.ready_at + service.pickup / 2 + direct + service.dropoff / 2
