"""What a courier sees of itself: profile, shift, open tasks and today's pay (for the API
and the courier's page alike)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.delivery import board, couriers, positions, tracking
from o2o.delivery.policy import CourierPolicy
from o2o.delivery.schemas import (
    CourierBrief,
    CourierMe,
    EarningsRead,
    Place,
    PositionRead,
    TaskRead,
    TrackingRead,
)
from o2o.orders import service as orders_service
from o2o.orders.channels import order_channel
from o2o.regions import service as regions_service


def navigate_url(lat: float | None, lng: float | None) -> str | None:
    """Directions to a point in the map service couriers' phones open."""
    if lat is None or lng is None:
        return None
    return f"https://www.openstreetmap.org/directions?route=%3B{lat:.6f}%2C{lng:.6f}"


async def courier_me(
    session: AsyncSession,
    *,
    user_id: int,
    display_name: str,
    policy: CourierPolicy,
    now: datetime,
) -> CourierMe:
    """The courier's own view (its profile is made on first use)."""
    courier = await couriers.profile(session, user_id=user_id)
    shift = await couriers.open_shift(session, user_id=user_id)
    pay = await couriers.earnings_today(session, courier=courier, policy=policy, now=now)
    region = await regions_service.get_region(session, region_id=courier.region_id)
    items = []
    for d, o, s in await couriers.tasks_of(session, courier_id=user_id):
        address = o.address or {}
        # To the store until the goods are in hand, then to the door.
        target = (o.address_lat, o.address_lng) if d.picked_up_at else (s.lat, s.lng)
        items.append(
            TaskRead(
                delivery_id=d.id,
                order_id=o.id,
                status=d.status.value,
                order_status=o.status.value,
                accepted=d.accepted_at is not None,
                store=Place(name=s.name, address=s.address, lat=s.lat, lng=s.lng),
                dropoff=Place(
                    name=str(address.get("name", "")),
                    address=str(address.get("text", "")),
                    lat=o.address_lat,
                    lng=o.address_lng,
                ),
                assigned_at=d.assigned_at,
                picked_up_at=d.picked_up_at,
                promised_at=o.promised_at,
                navigate_url=navigate_url(*target),
            )
        )
    last = None
    if courier.last_lat is not None and courier.last_lng is not None and courier.last_seen_at:
        last = PositionRead(lat=courier.last_lat, lng=courier.last_lng, at=courier.last_seen_at)
    return CourierMe(
        user_id=user_id,
        display_name=display_name,
        region_id=courier.region_id,
        vehicle=courier.vehicle,
        speed_m_per_s=courier.speed_m_per_s,
        on_shift=courier.on_shift,
        shift_started_at=shift.started_at if shift else None,
        stale=positions.is_stale(courier, now=now, policy=policy),
        open_count=courier.open_count,
        last_position=last,
        tasks=items,
        earnings_today=EarningsRead(**vars(pay), currency=region.currency),
    )


def tracking_read(view: tracking.Tracking, now: datetime) -> TrackingRead:
    d, c, u = view.delivery, view.courier, view.courier_user
    pos = view.position()
    brief = None
    if c is not None and u is not None:
        brief = CourierBrief(
            name=u.display_name, phone=tracking.mask_phone(u.phone), vehicle=c.vehicle
        )
    return TrackingRead(
        order_id=view.order.id,
        order_status=view.order.status.value,
        delivery_id=d.id if d else None,
        delivery_status=d.status.value if d else None,
        courier=brief,
        position=PositionRead(**pos) if pos else None,
        eta_seconds=round(view.eta_seconds) if view.eta_seconds is not None else None,
        eta_at=tracking.eta_at(view.eta_seconds, now),
        promised_at=view.order.promised_at,
        delivery_code=view.delivery_code,
    )


async def position_news(
    session: AsyncSession, *, done: positions.Recorded, now: datetime
) -> list[tuple[str, dict[str, object]]]:
    """(channel, message) for each order following the courier, when it moved: the tracking
    answer without the delivery code. Published after the commit."""
    if not done.moved:
        return []
    news: list[tuple[str, dict[str, object]]] = []
    for order_id in done.order_ids:
        order = await orders_service.get_order(session, order_id=order_id)
        view = await tracking.tracking(session, order=order, for_shopper=False, now=now)
        message = {"type": "tracking", **tracking_read(view, now).model_dump(mode="json")}
        news.append((order_channel(order_id), message))
    news.append(board.courier_moved(done.courier))  # one per batch, for the region's board
    return news
