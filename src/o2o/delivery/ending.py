"""A delivery order that ends before its goods leave the store (the store rejects it, the
shopper cancels it, a timer expires it) ends its delivery in the same transaction: the
delivery becomes ``cancelled``, with no courier, so dispatch never offers it again; a courier
holding it is freed of it and told (a notification, and a live message after commit).

The order's use case runs first (it locks the order, the lock every change of an order takes
first), then the delivery row is locked and ended, then the courier's count drops: the lock
order of every other delivery step (order, delivery, courier), so a dispatch claim or an
operator's reassignment racing the ending waits for it or lands first and is undone here:
never a courier holding a cancelled order.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.outbox import emit
from o2o.delivery import assign
from o2o.delivery.models import Delivery
from o2o.delivery.models import DeliveryStatus as D
from o2o.notifications import service as notifications_service
from o2o.orders import expiry as orders_expiry
from o2o.orders import service as orders_service
from o2o.orders.models import Fulfilment, Order, OrderStatus
from o2o.orders.policy import OrderPolicy
from o2o.payments.service import Providers

# The outbox topic of a delivery taken from its courier because its order ended.
DELIVERY_CANCELLED = "delivery.cancelled"
# Order statuses that end an order before its goods were handed over.
ENDED = frozenset({OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.EXPIRED})
# Deliveries no courier has the goods of yet: what an ended order cancels.
UNSTARTED = frozenset({D.REQUESTED, D.ASSIGNED})


def why(status: OrderStatus) -> str:
    return {
        OrderStatus.REJECTED: "the store rejected the order",
        OrderStatus.EXPIRED: "the order expired",
    }.get(status, "the order was cancelled")


async def end_with_order(session: AsyncSession, *, order: Order, now: datetime) -> Delivery | None:
    """Cancel the delivery of an order that ended (call with the order locked, after its
    move). Nothing happens to a delivery whose goods a courier has, or that ended already.
    The delivery if it was cancelled here, else None."""
    if order.fulfilment != Fulfilment.DELIVERY or order.status not in ENDED:
        return None
    delivery = await session.scalar(
        select(Delivery)
        .where(Delivery.order_id == order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if delivery is None or delivery.status not in UNSTARTED:
        return None
    holder = delivery.courier_id
    reason = why(order.status)
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id)
        .values(
            status=D.CANCELLED, courier_id=None, reason=reason, cancelled_at=now, updated_at=now
        )
    )
    if holder is not None:
        await assign.unhold(session, courier_id=holder, count=1)
        await assign.purge_trail(session, courier_id=holder)
        facts = {
            "delivery_id": delivery.id,
            "order_id": order.id,
            "store_id": order.store_id,
            "region_id": delivery.region_id,
            "courier_id": holder,
            "reason": reason,
        }
        await notifications_service.notify(
            session,
            user_id=holder,
            kind=DELIVERY_CANCELLED,
            data=facts,
            source=f"delivery:{delivery.id}:cancelled",
        )
        emit(session, DELIVERY_CANCELLED, facts)
    await session.refresh(delivery)
    return delivery


async def cancel(
    session: AsyncSession,
    *,
    order: Order,
    actor_user_id: int | None,
    reason: str,
    providers: Providers,
    now: datetime | None = None,
) -> Order:
    """The shopper cancels (``orders.service.cancel``), and its delivery ends with it."""
    now = now or utcnow()
    await orders_service.cancel(
        session, order=order, actor_user_id=actor_user_id, reason=reason,
        providers=providers, now=now,
    )  # fmt: skip
    await end_with_order(session, order=order, now=now)
    return order


async def expire(
    session: AsyncSession,
    *,
    order_id: int,
    policy: OrderPolicy,
    providers: Providers,
    now: datetime | None = None,
) -> bool:
    """A due order ends (``orders.expiry.expire``), and its delivery with it."""
    now = now or utcnow()
    if not await orders_expiry.expire(
        session, order_id=order_id, policy=policy, providers=providers, now=now
    ):
        return False
    order = await orders_service.get_order(session, order_id=order_id)
    await end_with_order(session, order=order, now=now)
    return True
