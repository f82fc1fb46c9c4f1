"""The order state machine: which status may follow which, for whom, per fulfilment.

Staff move an order through the store's work; the shopper may cancel before the store has
started; the platform itself pays, collects (through a redeemed code), and expires.
"""

from __future__ import annotations

import enum

from o2o.orders.models import Fulfilment
from o2o.orders.models import OrderStatus as S


class Actor(enum.StrEnum):
    STAFF = "staff"
    SHOPPER = "shopper"
    SYSTEM = "system"


_Moves = dict[S, frozenset[S]]


def _moves(**pairs: tuple[S, ...]) -> _Moves:
    return {S(k): frozenset(v) for k, v in pairs.items()}


STAFF: dict[Fulfilment, _Moves] = {
    Fulfilment.PICKUP: _moves(
        paid=(S.ACCEPTED, S.REJECTED),
        accepted=(S.PREPARING, S.READY, S.REJECTED),
        preparing=(S.READY,),
    ),
    Fulfilment.RESERVE: _moves(
        placed=(S.ACCEPTED, S.REJECTED),
        accepted=(S.READY, S.REJECTED),
    ),
    Fulfilment.DELIVERY: _moves(
        paid=(S.ACCEPTED, S.REJECTED),
        accepted=(S.PREPARING, S.READY, S.REJECTED),
        preparing=(S.READY,),
        ready=(S.OUT_FOR_DELIVERY,),
        out_for_delivery=(S.DELIVERED,),
    ),
    Fulfilment.SHIPPING: _moves(
        paid=(S.ACCEPTED, S.REJECTED),
        accepted=(S.PREPARING, S.SHIPPED, S.REJECTED),
        preparing=(S.SHIPPED,),
        shipped=(S.DELIVERED,),
    ),
}

SHOPPER_CANCELS: dict[Fulfilment, frozenset[S]] = {
    Fulfilment.PICKUP: frozenset({S.PLACED, S.PAID}),
    Fulfilment.RESERVE: frozenset({S.PLACED, S.ACCEPTED, S.READY}),
    Fulfilment.DELIVERY: frozenset({S.PLACED, S.PAID}),
    Fulfilment.SHIPPING: frozenset({S.PLACED, S.PAID}),
}

# A redeemed pickup code hands the goods over: from these statuses.
COLLECTABLE: dict[Fulfilment, frozenset[S]] = {
    Fulfilment.PICKUP: frozenset({S.PAID, S.ACCEPTED, S.PREPARING, S.READY}),
    Fulfilment.RESERVE: frozenset({S.PLACED, S.ACCEPTED, S.READY}),
}

# Statuses in which the platform holds the shopper's money for goods not yet handed over.
PAID_OPEN = frozenset({S.PAID, S.ACCEPTED, S.PREPARING, S.READY})
FINAL = frozenset({S.COLLECTED, S.DELIVERED, S.REJECTED, S.CANCELLED, S.EXPIRED})
# Orders the store still has to work on (its live queue).
QUEUE = frozenset({S.PLACED, S.PAID, S.ACCEPTED, S.PREPARING, S.READY, S.OUT_FOR_DELIVERY})


def staff_may(fulfilment: Fulfilment, current: S, to: S) -> bool:
    return to in STAFF[fulfilment].get(current, frozenset())


def staff_next(fulfilment: Fulfilment, current: S) -> list[S]:
    """What staff can do next, in the order the console shows the buttons."""
    return sorted(STAFF[fulfilment].get(current, frozenset()), key=list(S).index)
