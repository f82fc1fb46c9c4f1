"""What a dispatch round sees (a ``Snapshot``) and what it decides (a ``Plan``).

Positions are planar metres (the live system projects latitude/longitude around the region's
centre first); times are seconds on any clock that both sides share (epoch seconds live,
seconds from the start of the day in the simulator).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """An order waiting for a courier (or held by one that has not picked it up yet)."""

    id: str
    store: str
    pickup: Point
    dropoff: Point
    placed_at: float
    ready_at: float
    due_at: float  # the promise: lateness is measured against it


@dataclass(frozen=True, slots=True)
class Courier:
    """A courier on shift, free from ``free_at`` at ``position``.

    ``free_at <= now`` means idle now; later means busy until then (its last drop-off is
    ``position``), or not yet on shift. ``held`` are orders assigned to it and not picked up:
    the ones that return to the pool if it declines or goes silent (``reassign``).
    """

    id: str
    position: Point
    free_at: float
    shift_end: float  # picks nothing up after this
    speed: float = 320 / 60  # metres per second
    capacity: int = 3
    held: tuple[OpenOrder, ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """``forbidden`` holds (order id, courier id) pairs the round must never match: a courier
    who declined an order is not offered it again."""

    now: float
    orders: tuple[OpenOrder, ...]
    couriers: tuple[Courier, ...]
    forbidden: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True, slots=True)
class Assignment:
    """A courier goes to ``store``, picks up ``orders`` and drops them off in this order."""

    courier_id: str
    store: str
    orders: tuple[str, ...]


@dataclass(slots=True)
class Plan:
    assignments: list[Assignment] = field(default_factory=list)
    postponed: list[str] = field(default_factory=list)

    def assigned(self) -> set[str]:
        return {order for a in self.assignments for order in a.orders}


def reassign(snapshot: Snapshot, courier_id: str) -> Snapshot:
    """The snapshot without a courier who declined or went silent, its held orders back in
    the pool: they keep their placement and ready times, so the age terms of the next round
    put them first."""
    gone = next((c for c in snapshot.couriers if c.id == courier_id), None)
    if gone is None:
        return snapshot
    pooled = {o.id for o in snapshot.orders}
    returned = tuple(o for o in gone.held if o.id not in pooled)
    couriers = tuple(c for c in snapshot.couriers if c.id != courier_id)
    return Snapshot(snapshot.now, snapshot.orders + returned, couriers, snapshot.forbidden)
