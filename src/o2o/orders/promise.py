"""The delivery promise at checkout: when the goods would arrive, and how far a store delivers.

The store configures a promise (``delivery_minutes``, 30 by default) and a radius. Under load
the honest answer changes: when couriers are short, the goods leave the store later, so the
time quoted to a shopper grows with the distance and the area within which the promise still
holds shrinks. The load itself is known only to the delivery domain, a tier above orders: it
hands checkout a ``DeliveryOutlook`` through the ``OutlookSource`` wired in ``create_app``.
Without one, the flat promise of the store is quoted everywhere within its radius.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.geo.distance import haversine_m
from o2o.merchants import hours
from o2o.merchants.models import Store
from o2o.orders.exceptions import (
    AddressRequired,
    DeliveryAreaReduced,
    OutsideDeliveryRadius,
    StoreClosed,
)
from o2o.orders.schemas import AddressIn

# Quotes are rounded up to this many minutes: "~35 min", never "~33 min".
QUOTE_STEP_MINUTES = 5


@dataclass(frozen=True)
class DeliveryOutlook:
    """What a store's deliveries look like right now.

    ``lead_minutes`` is the time from now until a courier leaves the store with the goods
    (preparation, or waiting for a courier, whichever is longer, plus the pickup); ``speed``
    the courier's metres per minute; ``service_minutes`` the hand-over at the door. With no
    speed the outlook is flat: the store's promise, within its radius.
    """

    promise_minutes: int
    radius_m: int
    lead_minutes: float = 0.0
    speed_m_per_min: float | None = None
    service_minutes: float = 0.0

    @property
    def flat(self) -> bool:
        return self.speed_m_per_min is None

    def minutes_to(self, distance_m: float) -> int:
        """The quoted minutes for an address this far from the store (rounded up)."""
        if self.speed_m_per_min is None:
            return self.promise_minutes
        raw = self.lead_minutes + distance_m / self.speed_m_per_min + self.service_minutes
        rounded = max(QUOTE_STEP_MINUTES, math.ceil(raw / QUOTE_STEP_MINUTES) * QUOTE_STEP_MINUTES)
        # Within reach the promise holds, whatever the rounding says.
        within = raw <= self.promise_minutes + 1e-9
        return min(rounded, self.promise_minutes) if within else rounded

    @property
    def reach_m(self) -> int:
        """How far the store delivers within its promise now: its radius, or less."""
        if self.speed_m_per_min is None:
            return self.radius_m
        spare = self.promise_minutes - self.lead_minutes - self.service_minutes
        # The epsilon keeps a whole metre exactly at the limit inside despite float error.
        return max(0, min(self.radius_m, math.floor(spare * self.speed_m_per_min + 1e-6)))


class OutlookSource(Protocol):
    async def __call__(
        self, session: AsyncSession, *, store: Store, now: datetime
    ) -> DeliveryOutlook: ...


async def flat_outlook(session: AsyncSession, *, store: Store, now: datetime) -> DeliveryOutlook:
    """The store's own promise, whatever the load (no delivery domain wired in)."""
    del session, now
    return DeliveryOutlook(promise_minutes=store.delivery_minutes, radius_m=store.delivery_radius_m)


def check_delivery(store: Store, address: AddressIn | None, outlook: DeliveryOutlook) -> int:
    """The distance to a deliverable address, or the reason it is not: beyond the store's
    radius, or beyond what it can reach within its promise right now."""
    if address is None:
        raise AddressRequired("Delivery needs an address with its position.", field="address")
    distance = haversine_m(store.lat, store.lng, address.lat, address.lng)
    if distance > store.delivery_radius_m:
        raise OutsideDeliveryRadius(
            f"The address is {distance / 1000:.1f} km away; this store delivers within "
            f"{store.delivery_radius_m / 1000:.1f} km. Choose a nearer store or pickup.",
            field="address",
            distance_m=round(distance),
            radius_m=store.delivery_radius_m,
        )
    reach = outlook.reach_m
    if distance > reach:
        raise DeliveryAreaReduced(
            f"Couriers are busy: within {outlook.promise_minutes} minutes this store delivers "
            f"only within {reach / 1000:.1f} km right now, and the address is "
            f"{distance / 1000:.1f} km away. Choose pickup, a nearer store, or try again later.",
            field="address",
            distance_m=round(distance),
            radius_m=reach,
        )
    return round(distance)


def check_open(store: Store, *, timezone: str, now: datetime) -> None:
    """A delivery leaves now, so the store must be open now; else say when it opens."""
    if hours.is_open_at(
        now, timezone=timezone, week=store.opening_hours, exceptions=store.hours_exceptions
    ):
        return
    upcoming = hours.open_intervals(
        now,
        days=8,
        timezone=timezone,
        week=store.opening_hours,
        exceptions=store.hours_exceptions,
    )
    opens = next((start for start, _end in upcoming if start > now), None)
    local = opens.astimezone(ZoneInfo(timezone)) if opens else None
    raise StoreClosed(
        "The store is closed now, so it cannot deliver"
        + (f"; it opens at {local:%H:%M} ({local:%Y-%m-%d})." if local else ".")
        + " Choose pickup for later, or another store.",
        opens_at=opens.isoformat() if opens else None,
    )
