"""The load around a store, read from the live fleet, as checkout's delivery outlook.

Checkout asks (through ``OrderPolicy.delivery_outlook``) how a delivery from this store would
go right now; the answer comes from the couriers on shift near it, the deliveries waiting
near it, and how long the region's recent trips took (``promise`` turns that into minutes).
Three small reads, only for delivery quotes and orders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.delivery import promise
from o2o.delivery.models import Courier, Delivery, DeliveryStatus
from o2o.delivery.policy import CourierPolicy
from o2o.geo.distance import haversine_m
from o2o.merchants.models import Store
from o2o.orders.promise import DeliveryOutlook, OutlookSource

METRES_PER_DEGREE = 111_195.0


@dataclass(frozen=True)
class Area:
    """Which couriers and waiting orders count as 'near' a store."""

    couriers_m: float = 5_000.0  # couriers this close can serve the store soon
    orders_m: float = 3_000.0  # waiting orders this close compete for the same couriers
    trips_window: timedelta = timedelta(hours=2)  # recent trips that set the trip time
    default_trip_minutes: float = 25.0  # before any trip was made in the region


def _box(lat: float, lng: float, metres: float) -> tuple[float, float, float, float]:
    dlat = metres / METRES_PER_DEGREE
    dlng = metres / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


async def load_near(
    session: AsyncSession,
    *,
    store: Store,
    now: datetime,
    policy: CourierPolicy,
    area: Area | None = None,
) -> promise.Load:
    """Couriers on shift and heard from lately within reach of the store, the deliveries
    waiting for a courier around it, and the region's recent trip time."""
    area = area or Area()
    fresh = now - timedelta(seconds=policy.stale_seconds)
    lat0, lat1, lng0, lng1 = _box(store.lat, store.lng, area.couriers_m)
    rows = (
        await session.execute(
            select(
                Courier.last_lat, Courier.last_lng, Courier.open_count, Courier.speed_m_per_s
            ).where(
                Courier.region_id == store.region_id,
                Courier.on_shift.is_(True),
                Courier.last_seen_at >= fresh,
                Courier.last_lat.between(lat0, lat1),
                Courier.last_lng.between(lng0, lng1),
            )
        )
    ).all()
    near = [
        (haversine_m(store.lat, store.lng, lat, lng), held, speed)
        for lat, lng, held, speed in rows
        if lat is not None and lng is not None
    ]
    near = [(d, held, speed) for d, held, speed in near if d <= area.couriers_m]
    free = sorted(d for d, held, _ in near if held == 0)
    olat0, olat1, olng0, olng1 = _box(store.lat, store.lng, area.orders_m)
    waiting = await session.scalar(
        select(func.count())
        .select_from(Delivery)
        .join(Store, Store.id == Delivery.store_id)
        .where(
            Delivery.region_id == store.region_id,
            Delivery.status == DeliveryStatus.REQUESTED,
            Store.lat.between(olat0, olat1),
            Store.lng.between(olng0, olng1),
        )
    )
    speeds = [speed * 60 for _, _, speed in near]
    return promise.Load(
        speed_m_per_min=sum(speeds) / len(speeds) if speeds else None,
        waiting=int(waiting or 0),
        free=len(free),
        on_shift=len(near),
        approach_m=free[0] if free else min((d for d, _, _ in near), default=0.0),
        trip_minutes=await _trip_minutes(session, store=store, now=now, area=area),
    )


async def _trip_minutes(session: AsyncSession, *, store: Store, now: datetime, area: Area) -> float:
    recent = (
        await session.execute(
            select(Delivery.assigned_at, Delivery.delivered_at).where(
                and_(
                    Delivery.region_id == store.region_id,
                    Delivery.status == DeliveryStatus.DELIVERED,
                    Delivery.delivered_at >= now - area.trips_window,
                    Delivery.assigned_at.is_not(None),
                )
            )
        )
    ).all()
    spans = [(done - began).total_seconds() / 60 for began, done in recent if began and done]
    return sum(spans) / len(spans) if spans else area.default_trip_minutes


def source(policy: CourierPolicy, area: Area | None = None) -> OutlookSource:
    """Checkout's outlook from the live fleet (wired into ``OrderPolicy`` by ``create_app``)."""

    async def outlook(session: AsyncSession, *, store: Store, now: datetime) -> DeliveryOutlook:
        load = await load_near(session, store=store, now=now, policy=policy, area=area)
        return promise.outlook(
            promise_minutes=store.delivery_minutes,
            radius_m=store.delivery_radius_m,
            prep_minutes=store.prep_minutes,
            load=load,
            service=promise.Service(speed_m_per_min=load.speed_m_per_min)
            if load.speed_m_per_min
            else None,
        )

    return outlook
