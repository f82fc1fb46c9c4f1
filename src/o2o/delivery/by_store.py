"""The store moves a delivery order on itself: when it hands the goods out for delivery, the
delivery request ends in the same transaction, unless a platform courier holding it is the one
taking the goods; when it rejects the order, the delivery is cancelled with it (``ending``).

Staff call ``transition`` instead of the order service's own: it makes the order's move (which
locks the order first) and then settles the delivery by conditional updates, so a dispatch
claim racing the hand-over either lands first (the goods go to that courier) or finds the
request gone: the order ends with the courier or with the staff, never both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.delivery import assign, ending
from o2o.delivery.models import Delivery
from o2o.delivery.models import DeliveryStatus as D
from o2o.orders import service as orders_service
from o2o.orders.models import Fulfilment, Order, OrderStatus
from o2o.payments.service import Providers

OWN_STAFF = "carried by the store's own staff"


async def transition(
    session: AsyncSession,
    *,
    order: Order,
    to: OrderStatus,
    actor_user_id: int,
    reason: str = "",
    providers: Providers,
    own_staff: bool = False,
    now: datetime | None = None,
) -> Order:
    """Staff move the order on (``orders.service.transition``); a delivery order handed out
    for delivery settles its delivery: with no courier holding it (or ``own_staff``) the
    store's staff carry it and the request ends; otherwise it went to the courier. A rejected
    delivery order's delivery is cancelled, and a courier holding it freed."""
    now = now or utcnow()
    await orders_service.transition(
        session, order=order, to=to, actor_user_id=actor_user_id, reason=reason,
        providers=providers, now=now,
    )  # fmt: skip
    if order.fulfilment == Fulfilment.DELIVERY and to == OrderStatus.OUT_FOR_DELIVERY:
        await hand_to_staff(session, order_id=order.id, own_staff=own_staff, now=now)
    elif to == OrderStatus.REJECTED:
        await ending.end_with_order(session, order=order, now=now)
    return order


async def _end(
    session: AsyncSession, delivery_id: int, *, was: D, holder: int | None, now: datetime
) -> bool:
    """``was`` → ``by_store`` if it is still ``was`` (and still the holder's)."""
    done = await session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == was,
            Delivery.courier_id.is_(None) if holder is None else Delivery.courier_id == holder,
        )
        .values(
            status=D.BY_STORE,
            courier_id=None,
            assigned_at=None,
            accepted_at=None,
            reason=OWN_STAFF,
            updated_at=now,
        )
        .returning(Delivery.id)
    )
    return done.one_or_none() is not None


async def hand_to_staff(
    session: AsyncSession, *, order_id: int, own_staff: bool, now: datetime
) -> Delivery | None:
    """End the delivery request of an order the store's staff carry (call with the order
    locked). A courier holding it, not yet picked up, is freed when ``own_staff``; without
    it the goods went to that courier and the delivery stays theirs."""
    delivery = await assign.delivery_of_order(session, order_id=order_id)
    if delivery is None:  # paid before couriers existed: the store's hand-over as ever
        return None
    if await _end(session, delivery.id, was=D.REQUESTED, holder=None, now=now):
        await session.refresh(delivery)
        return delivery
    await session.refresh(delivery)  # a claim won the race: a courier holds it now
    holder = delivery.courier_id
    if own_staff and delivery.status == D.ASSIGNED and holder is not None:
        if await _end(session, delivery.id, was=D.ASSIGNED, holder=holder, now=now):
            await assign.unhold(session, courier_id=holder, count=1)
            await assign.purge_trail(session, courier_id=holder)
        await session.refresh(delivery)
    return delivery
