"""The operator's dispatch board of a region: every courier on shift and every open delivery,
with how late each one is (or is going to be), in three queries whatever the region's size.

Lateness compares the promise made to the shopper with two times: now (minutes late already)
and the projected hand-over (minutes late at the current ETA). The projection is the ETA the
shopper sees: from the courier's last position to the store, the pickup, on to the door and
the hand-over, at the courier's speed; a delivery still waiting for a courier is projected at
its earliest, as if a courier were at the store now (at e-bike speed).

Live changes reach the board on the region's channel (``region_channel``): ``courier``
messages when a courier's batch of positions moves it, ``change`` messages when a delivery
or a shift changes (the board then reads itself again).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import User
from o2o.delivery import positions
from o2o.delivery.models import (
    MAX_OPEN,
    VEHICLE_SPEED,
    Courier,
    Delivery,
    DeliveryStatus,
    Vehicle,
)
from o2o.delivery.policy import CourierPolicy
from o2o.delivery.projection import Plane
from o2o.delivery.routes import Service
from o2o.delivery.schemas import (
    BoardCourier,
    BoardDelivery,
    DispatchBoard,
    Place,
    PositionRead,
)
from o2o.delivery.travel import StraightLine
from o2o.merchants.models import Store
from o2o.orders.channels import region_channel
from o2o.orders.models import Order
from o2o.orders.state import FINAL
from o2o.regions import service as regions_service

# Deliveries the board shows: waiting for a courier, held, or on the way.
OPEN = (DeliveryStatus.REQUESTED, DeliveryStatus.ASSIGNED, DeliveryStatus.PICKED_UP)
# Projected to arrive less than this before the promise: at risk.
AT_RISK_MINUTES = 5.0
SERVICE = Service()
TRAVEL = StraightLine()
DEFAULT_SPEED = VEHICLE_SPEED[Vehicle.EBIKE]

Message = tuple[str, dict[str, object]]


class Lateness(enum.StrEnum):
    ON_TIME = "on_time"
    AT_RISK = "at_risk"
    LATE = "late"


@dataclass(frozen=True)
class Verdict:
    minutes_late: float  # now against the promise: > 0 late already, < 0 minutes to spare
    projected_minutes_late: float | None  # the projected hand-over against the promise
    lateness: Lateness

    @property
    def worst(self) -> float:
        """How late it is or will be, whichever is more: the board's sort key."""
        if self.projected_minutes_late is None:
            return self.minutes_late
        return max(self.minutes_late, self.projected_minutes_late)


def classify(
    *,
    now: datetime,
    promised_at: datetime,
    eta_at: datetime | None,
    at_risk_minutes: float = AT_RISK_MINUTES,
) -> Verdict:
    """Late: past the promise now, or projected to arrive after it. At risk: projected to
    arrive within ``at_risk_minutes`` of it (or, with no projection, that close to it now).
    On time otherwise."""
    late_now = (now - promised_at).total_seconds() / 60
    projected = None if eta_at is None else (eta_at - promised_at).total_seconds() / 60
    closest = late_now if projected is None else max(late_now, projected)
    if late_now > 0 or (projected is not None and projected > 0):
        verdict = Lateness.LATE
    elif closest > -at_risk_minutes:
        verdict = Lateness.AT_RISK
    else:
        verdict = Lateness.ON_TIME
    return Verdict(round(late_now, 1), None if projected is None else round(projected, 1), verdict)


def promise_of(order: Order, store: Store) -> datetime:
    """The time promised to the shopper (the store's usual delivery time for an old order
    placed before promises were quoted)."""
    placed = order.paid_at or order.created_at
    return order.promised_at or placed + timedelta(minutes=store.delivery_minutes)


def ready_of(order: Order, store: Store, now: datetime) -> tuple[datetime, bool]:
    """When the goods are (or should be) ready, and whether the store said they are."""
    if order.ready_at is not None:
        return order.ready_at, True
    placed = order.paid_at or order.created_at
    return max(placed + timedelta(minutes=store.prep_minutes), now), False


def projected_handover(
    delivery: Delivery, order: Order, store: Store, courier: Courier | None, now: datetime
) -> datetime | None:
    """When the goods should reach the door, or None without a drop-off position. The goods
    are taken to be ready when the courier gets to the store, as in the shopper's ETA."""
    if order.address_lat is None or order.address_lng is None:
        return None
    plane = Plane(store.lat, store.lng)
    shop = plane.point(store.lat, store.lng)
    door = plane.point(order.address_lat, order.address_lng)
    here = None
    speed = DEFAULT_SPEED
    if courier is not None and courier.last_lat is not None and courier.last_lng is not None:
        here = plane.point(courier.last_lat, courier.last_lng)
        speed = courier.speed_m_per_s
    if delivery.status == DeliveryStatus.PICKED_UP:
        start = here or shop
        seconds = TRAVEL.seconds(start, door, speed) + SERVICE.dropoff / 2
        return now + timedelta(seconds=seconds)
    to_store = TRAVEL.seconds(here, shop, speed) if here is not None else 0.0
    seconds = to_store + SERVICE.pickup + TRAVEL.seconds(shop, door, speed) + SERVICE.dropoff / 2
    return now + timedelta(seconds=seconds)


def _place(lat: float | None, lng: float | None, name: str = "", address: str = "") -> Place:
    return Place(name=name, address=address, lat=lat, lng=lng)


def courier_state(courier: Courier, *, stale: bool) -> str:
    """``stale`` (not heard from lately), ``busy`` (holds a delivery) or ``idle``."""
    if stale:
        return "stale"
    return "busy" if courier.open_count > 0 else "idle"


async def board(
    session: AsyncSession, *, region_id: int, policy: CourierPolicy, now: datetime
) -> DispatchBoard:
    """The region's couriers on shift and open deliveries, most late first."""
    region = await regions_service.get_region(session, region_id=region_id)
    fleet = (
        await session.execute(
            select(Courier, User.display_name)
            .join(User, User.id == Courier.user_id)
            .where(Courier.region_id == region.id, Courier.on_shift.is_(True))
            .order_by(Courier.user_id)
            .execution_options(populate_existing=True)
        )
    ).all()
    rows = (
        await session.execute(
            select(Delivery, Order, Store)
            .join(Order, Order.id == Delivery.order_id)
            .join(Store, Store.id == Delivery.store_id)
            .where(
                Delivery.region_id == region.id,
                Delivery.status.in_(OPEN),
                Order.status.not_in(FINAL),
            )
            .order_by(Delivery.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    couriers = {c.user_id: (c, name) for c, name in fleet}
    held: dict[int, list[int]] = {}
    deliveries = []
    for d, o, s in rows:
        if d.courier_id is not None:
            held.setdefault(d.courier_id, []).append(d.id)
        found = couriers.get(d.courier_id) if d.courier_id is not None else None
        carrier = found[0] if found else None
        promised = promise_of(o, s)
        eta = projected_handover(d, o, s, carrier, now)
        verdict = classify(now=now, promised_at=promised, eta_at=eta)
        ready, is_ready = ready_of(o, s, now)
        address = o.address or {}
        deliveries.append(
            (
                verdict.worst,
                BoardDelivery(
                    delivery_id=d.id,
                    order_id=o.id,
                    status=d.status.value,
                    order_status=o.status.value,
                    store_id=s.id,
                    store=_place(s.lat, s.lng, s.name, s.address),
                    store_name_zh=s.name_zh,
                    dropoff=_place(
                        o.address_lat, o.address_lng, address=str(address.get("text", ""))
                    ),
                    courier_id=d.courier_id,
                    courier_name=found[1] if found else None,
                    accepted=d.accepted_at is not None,
                    placed_at=o.paid_at or o.created_at,
                    ready_at=ready,
                    ready=is_ready,
                    promised_at=promised,
                    assigned_at=d.assigned_at,
                    picked_up_at=d.picked_up_at,
                    eta_at=eta,
                    minutes_late=verdict.minutes_late,
                    projected_minutes_late=verdict.projected_minutes_late,
                    lateness=verdict.lateness.value,
                ),
            )
        )
    deliveries.sort(key=lambda pair: (-pair[0], pair[1].delivery_id))
    board_couriers = []
    for c, name in fleet:
        stale = positions.is_stale(c, now=now, policy=policy)
        position = None
        age = None
        if c.last_lat is not None and c.last_lng is not None and c.last_seen_at is not None:
            position = PositionRead(lat=c.last_lat, lng=c.last_lng, at=c.last_seen_at)
            age = max(0, round((now - c.last_seen_at).total_seconds()))
        board_couriers.append(
            BoardCourier(
                courier_id=c.user_id,
                name=name,
                vehicle=c.vehicle,
                position=position,
                position_age_seconds=age,
                stale=stale,
                state=courier_state(c, stale=stale),
                open_count=c.open_count,
                room=max(0, MAX_OPEN - c.open_count),
                delivery_ids=held.get(c.user_id, []),
            )
        )
    return DispatchBoard(
        region_id=region.id,
        region_name=region.name,
        region_name_zh=region.name_zh,
        center=_place(region.center_lat, region.center_lng),
        at=now,
        bundle_limit=MAX_OPEN,
        couriers=board_couriers,
        deliveries=[d for _worst, d in deliveries],
    )


# -- live messages (published after commit) ---------------------------------------------------
def courier_moved(courier: Courier) -> Message:
    """A courier's new last position, for the boards of its region (one per batch)."""
    message: dict[str, object] = {
        "type": "courier",
        "courier_id": courier.user_id,
        "lat": courier.last_lat,
        "lng": courier.last_lng,
        "at": courier.last_seen_at.isoformat() if courier.last_seen_at else None,
        "open_count": courier.open_count,
    }
    return region_channel(courier.region_id), message


def changed(region_id: int, *, what: str, **facts: Any) -> Message:
    """Something on the region's board changed (a delivery's state, a courier's shift): the
    board reads itself again."""
    return region_channel(region_id), {"type": "change", "what": what, **facts}


def delivery_changed(delivery: Delivery) -> Message:
    return changed(
        delivery.region_id,
        what="delivery",
        delivery_id=delivery.id,
        order_id=delivery.order_id,
        status=delivery.status.value,
        courier_id=delivery.courier_id,
    )
