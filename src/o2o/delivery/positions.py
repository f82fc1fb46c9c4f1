"""Couriers' positions: checked, then kept as the courier's last known place (and, while a
delivery is in progress, as its trail), for dispatch and for the shopper's tracking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.delivery import couriers
from o2o.delivery.exceptions import (
    NotOnShift,
    PositionInFuture,
    PositionOutOfRange,
    PositionTooOld,
)
from o2o.delivery.models import ACTIVE, Courier, CourierPosition, Delivery
from o2o.delivery.policy import CourierPolicy
from o2o.geo.distance import valid_position


@dataclass(frozen=True)
class Fix:
    lat: float
    lng: float
    at: datetime


def check(fixes: list[Fix], *, now: datetime, policy: CourierPolicy) -> None:
    """Refuse the whole batch at its first bad position (nothing of it is kept)."""
    ahead = now + timedelta(seconds=policy.skew_seconds)
    oldest = now - timedelta(seconds=policy.max_age_seconds)
    for i, fix in enumerate(fixes):
        where = f"positions[{i}]"
        if not valid_position(fix.lat, fix.lng):
            raise PositionOutOfRange(
                "Latitude must be within ±90 and longitude within ±180.", field=where
            )
        if fix.at > ahead:
            raise PositionInFuture(
                f"This position is timed after now (more than {policy.skew_seconds:g} s ahead):"
                " check the device's clock.",
                field=f"{where}.at",
            )
        if fix.at < oldest:
            raise PositionTooOld(
                f"This position is older than {policy.max_age_seconds:g} s; send fresh ones.",
                field=f"{where}.at",
            )


def is_stale(courier: Courier, *, now: datetime, policy: CourierPolicy) -> bool:
    """Silent too long (or never heard from): not dispatched to, its held orders released."""
    seen = courier.last_seen_at
    return seen is None or (now - seen).total_seconds() > policy.stale_seconds


@dataclass(frozen=True)
class Recorded:
    courier: Courier
    accepted: int
    moved: bool  # the batch had a position newer than the last known one
    order_ids: list[int]  # orders whose shoppers are following this courier


async def record(
    session: AsyncSession,
    *,
    courier_id: int,
    fixes: list[Fix],
    policy: CourierPolicy,
    now: datetime,
) -> Recorded:
    """Keep a batch of positions of an on-shift courier. Batches may arrive out of order:
    the last known position only ever moves forward in time."""
    check(fixes, now=now, policy=policy)
    courier = await couriers.profile(session, user_id=courier_id)
    courier = await couriers.profile(session, user_id=courier_id, lock=True)
    if not courier.on_shift:
        raise NotOnShift("Go on shift before sending positions.")
    newest = max(fixes, key=lambda f: f.at)
    moved = courier.last_seen_at is None or newest.at > courier.last_seen_at
    if moved:
        courier.last_lat, courier.last_lng, courier.last_seen_at = newest.lat, newest.lng, newest.at
    order_ids = list(
        await session.scalars(
            select(Delivery.order_id)
            .where(Delivery.courier_id == courier_id, Delivery.status.in_(ACTIVE))
            .order_by(Delivery.id)
        )
    )
    if order_ids:
        session.add_all(
            CourierPosition(courier_id=courier_id, lat=f.lat, lng=f.lng, at=f.at) for f in fixes
        )
    await session.flush()
    return Recorded(courier, len(fixes), moved, order_ids)
