"""Where the courier of an order is and when it should arrive, for the shopper and the store.

The courier's position is shown only while the delivery is in progress (assigned or picked
up); the ETA comes from the same travel model dispatch plans with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import User
from o2o.delivery import assign
from o2o.delivery.exceptions import NotADelivery
from o2o.delivery.models import ACTIVE, Courier, Delivery, DeliveryStatus
from o2o.delivery.projection import Plane
from o2o.delivery.routes import Service
from o2o.delivery.travel import StraightLine
from o2o.merchants import service as merchants_service
from o2o.merchants.models import Store
from o2o.orders.models import Fulfilment, Order
from o2o.redemption import codes
from o2o.redemption import service as redemption_service
from o2o.redemption.models import CodeKind, CodeStatus

SERVICE = Service()
TRAVEL = StraightLine()


def mask_phone(phone: str | None) -> str | None:
    """``138****5678``: enough to recognise the caller, not to call them later."""
    if not phone:
        return None
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def eta_seconds(delivery: Delivery, courier: Courier, store: Store, order: Order) -> float | None:
    """Seconds until the hand-over: to the store first (and its pickup) if not picked up,
    then to the address, then half the drop-off service (the hand-over is mid-way)."""
    if courier.last_lat is None or courier.last_lng is None or order.address_lat is None:
        return None
    if order.address_lng is None:
        return None
    plane = Plane(store.lat, store.lng)
    here = plane.point(courier.last_lat, courier.last_lng)
    shop = plane.point(store.lat, store.lng)
    door = plane.point(order.address_lat, order.address_lng)
    speed = courier.speed_m_per_s
    if delivery.status == DeliveryStatus.ASSIGNED:
        return (
            TRAVEL.seconds(here, shop, speed) + SERVICE.pickup
            + TRAVEL.seconds(shop, door, speed) + SERVICE.dropoff / 2
        )  # fmt: skip
    if delivery.status == DeliveryStatus.PICKED_UP:
        return TRAVEL.seconds(here, door, speed) + SERVICE.dropoff / 2
    return None


@dataclass(frozen=True)
class Tracking:
    order: Order
    delivery: Delivery | None
    courier: Courier | None  # only while the delivery is in progress
    courier_user: User | None
    eta_seconds: float | None
    delivery_code: str | None  # for the shopper's eyes only

    def position(self) -> dict[str, Any] | None:
        c = self.courier
        if c is None or c.last_lat is None or c.last_seen_at is None:
            return None
        return {"lat": c.last_lat, "lng": c.last_lng, "at": c.last_seen_at.isoformat()}


async def tracking(
    session: AsyncSession, *, order: Order, for_shopper: bool, now: datetime
) -> Tracking:
    """The order's delivery as the shopper (with the delivery code) or the store sees it."""
    if order.fulfilment != Fulfilment.DELIVERY:
        raise NotADelivery(f"Order {order.id} is not a delivery order.")
    delivery = await assign.delivery_of_order(session, order_id=order.id)
    courier: Courier | None = None
    user: User | None = None
    eta: float | None = None
    if delivery is not None and delivery.status in ACTIVE and delivery.courier_id is not None:
        courier = await session.get(Courier, delivery.courier_id, populate_existing=True)
        user = await session.get(User, delivery.courier_id)
        if courier is not None:
            store = await merchants_service.get_store(session, store_id=order.store_id)
            eta = eta_seconds(delivery, courier, store, order)
    code: str | None = None
    if for_shopper and delivery is not None:
        row = await redemption_service.code_for(
            session, subject=order.reference, kind=CodeKind.DELIVERY
        )
        if row is not None and row.status == CodeStatus.ACTIVE:
            code = codes.display(row.code)
    return Tracking(order, delivery, courier, user, eta, code)


def eta_at(seconds: float | None, now: datetime) -> datetime | None:
    return None if seconds is None else now + timedelta(seconds=seconds)
