"""Couriers: their profile, going on and off shift, and what they are doing now."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.principal import Principal
from o2o.core.clock import utcnow
from o2o.delivery import assign
from o2o.delivery.earnings import Earnings, earnings, minutes_on_shift
from o2o.delivery.exceptions import DeliveriesInHand, NoRegion, NotACourier
from o2o.delivery.models import (
    VEHICLE_SPEED,
    Courier,
    CourierShift,
    Delivery,
    DeliveryStatus,
    Vehicle,
)
from o2o.delivery.policy import CourierPolicy
from o2o.merchants.models import Store
from o2o.orders.models import Order
from o2o.regions import service as regions_service
from o2o.regions.models import Region

# What a courier still has to do something about.
OPEN = (DeliveryStatus.ASSIGNED, DeliveryStatus.PICKED_UP, DeliveryStatus.FAILED)


def require_courier(principal: Principal) -> int:
    """The caller's user id if the caller is a courier; else ``not_a_courier`` (403)."""
    if not principal.is_courier:
        raise NotACourier("This is for couriers; ask the platform to make you one.")
    return principal.user_id


async def profile(
    session: AsyncSession, *, user_id: int, region_id: int | None = None, lock: bool = False
) -> Courier:
    """The courier's profile, made on first use (an e-bike in ``region_id``, or the first
    active region)."""
    query = select(Courier).where(Courier.user_id == user_id)
    if lock:
        query = query.with_for_update()
    found = await session.scalar(query.execution_options(populate_existing=True))
    if found is not None:
        return found
    if region_id is None:
        region_id = await session.scalar(
            select(Region.id).where(Region.is_active.is_(True)).order_by(Region.id).limit(1)
        )
        if region_id is None:
            raise NoRegion("The platform has no active region yet.")
    else:
        await regions_service.get_region(session, region_id=region_id)
    courier = Courier(
        user_id=user_id,
        region_id=region_id,
        vehicle=Vehicle.EBIKE,
        speed_m_per_s=VEHICLE_SPEED[Vehicle.EBIKE],
        on_shift=False,
        open_count=0,
    )
    session.add(courier)
    await session.flush()
    return courier


async def set_shift(
    session: AsyncSession,
    *,
    user_id: int,
    on: bool,
    region_id: int | None = None,
    vehicle: Vehicle | None = None,
    now: datetime | None = None,
) -> Courier:
    """Go on shift (a shift record opens) or off it (it closes). Off shift with goods in hand
    is refused; deliveries held but not picked up go back to dispatch."""
    now = now or utcnow()
    courier = await profile(session, user_id=user_id, region_id=region_id)
    if not on:
        # The deliveries it holds first, then the courier: the lock order of claims and
        # reassignments, so that an operator moving one of them meanwhile waits, not deadlocks.
        await session.execute(
            select(Delivery.id)
            .where(Delivery.courier_id == user_id, Delivery.status.in_(OPEN))
            .order_by(Delivery.id)
            .with_for_update()
        )
    courier = await profile(session, user_id=user_id, lock=True)
    if on:
        if region_id is not None and region_id != courier.region_id:
            await regions_service.get_region(session, region_id=region_id)
            courier.region_id = region_id
        if vehicle is not None:
            courier.vehicle, courier.speed_m_per_s = vehicle, VEHICLE_SPEED[vehicle]
        if not courier.on_shift:
            courier.on_shift = True
            session.add(CourierShift(courier_id=user_id, started_at=now))
        await session.flush()
        return courier
    carrying = await session.scalar(
        select(func.count()).where(
            Delivery.courier_id == user_id,
            Delivery.status.in_([DeliveryStatus.PICKED_UP, DeliveryStatus.FAILED]),
        )
    )
    if carrying:
        raise DeliveriesInHand(f"You still carry {carrying} order(s): deliver or return them.")
    await assign.release_held(session, courier_id=user_id, now=now, reason="went off shift")
    courier.on_shift = False
    await session.execute(
        update(CourierShift)
        .where(CourierShift.courier_id == user_id, CourierShift.ended_at.is_(None))
        .values(ended_at=now)
    )
    await session.flush()
    await session.refresh(courier)
    return courier


async def open_shift(session: AsyncSession, *, user_id: int) -> CourierShift | None:
    return await session.scalar(
        select(CourierShift).where(
            CourierShift.courier_id == user_id, CourierShift.ended_at.is_(None)
        )
    )


async def earnings_today(
    session: AsyncSession,
    *,
    courier: Courier,
    policy: CourierPolicy,
    now: datetime | None = None,
) -> Earnings:
    """Today's pay (the region's local day): fees per delivery topped up to the minimum."""
    now = now or utcnow()
    region = await regions_service.get_region(session, region_id=courier.region_id)
    local = now.astimezone(ZoneInfo(region.timezone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start_utc, end_utc = (
        start.astimezone(now.tzinfo),
        (start + timedelta(days=1)).astimezone(now.tzinfo),
    )
    shifts = [
        (s.started_at, s.ended_at)
        for s in await session.scalars(
            select(CourierShift).where(
                CourierShift.courier_id == courier.user_id,
                CourierShift.started_at < end_utc,
                (CourierShift.ended_at.is_(None)) | (CourierShift.ended_at > start_utc),
            )
        )
    ]
    done = await session.scalar(
        select(func.count()).where(
            Delivery.courier_id == courier.user_id,
            Delivery.status == DeliveryStatus.DELIVERED,
            Delivery.delivered_at >= start_utc,
            Delivery.delivered_at < end_utc,
        )
    )
    minutes = minutes_on_shift(shifts, start=start_utc, end=min(end_utc, now))
    return earnings(deliveries=int(done or 0), minutes=minutes, policy=policy)


async def tasks_of(
    session: AsyncSession, *, courier_id: int
) -> list[tuple[Delivery, Order, Store]]:
    """The courier's open deliveries (held, carried, or failed on the way back), oldest first."""
    rows = await session.execute(
        select(Delivery, Order, Store)
        .join(Order, Order.id == Delivery.order_id)
        .join(Store, Store.id == Delivery.store_id)
        .where(Delivery.courier_id == courier_id, Delivery.status.in_(OPEN))
        .order_by(Delivery.id)
    )
    return [(d, o, s) for d, o, s in rows.all()]
