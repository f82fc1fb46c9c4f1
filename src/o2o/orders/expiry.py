"""The timers that end orders: unpaid past their hold, reserve-to-try holds that ended,
and pickups not collected by the end of their window plus the grace period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.orders import service, state
from o2o.orders.models import Fulfilment, Order, OrderStatus
from o2o.orders.policy import OrderPolicy
from o2o.payments.service import Providers

S = OrderStatus


async def due_orders(
    session: AsyncSession, *, policy: OrderPolicy, now: datetime | None = None, limit: int = 100
) -> list[int]:
    """Orders whose time is up: unpaid past their hold, reserve-to-try holds that ended, and
    pickups not collected by the end of their window plus the grace period."""
    now = now or utcnow()
    held = select(Order.id).where(
        Order.status.in_([S.PLACED, S.ACCEPTED, S.READY]),
        Order.hold_until <= now,
        (Order.status == S.PLACED) | (Order.fulfilment == Fulfilment.RESERVE),
    )
    uncollected = select(Order.id).where(
        Order.fulfilment == Fulfilment.PICKUP,
        Order.status.in_(list(state.PAID_OPEN)),
        Order.pickup_end <= now - policy.pickup_grace,
    )
    ids = set(await session.scalars(held.limit(limit))) | set(
        await session.scalars(uncollected.limit(limit))
    )
    return sorted(ids)


async def expire(
    session: AsyncSession,
    *,
    order_id: int,
    policy: OrderPolicy,
    providers: Providers,
    now: datetime | None = None,
) -> bool:
    """End one due order (see ``due_orders``); False if it is no longer due."""
    now = now or utcnow()
    order = await service.lock_order(session, await service.get_order(session, order_id=order_id))
    was = order.status
    hold_over = order.hold_until is not None and order.hold_until <= now
    if (
        order.fulfilment == Fulfilment.RESERVE
        and was in (S.PLACED, S.ACCEPTED, S.READY)
        and hold_over
    ):
        to, note = S.EXPIRED, "hold_ended"
    elif was == S.PLACED and hold_over:
        to, note = S.EXPIRED, "not_paid"
    elif (
        order.fulfilment == Fulfilment.PICKUP
        and was in state.PAID_OPEN
        and order.pickup_end is not None
        and order.pickup_end <= now - policy.pickup_grace
    ):
        to, note = S.CANCELLED, "not_collected"
    else:
        return False
    await service.move(session, order, to, actor_user_id=None, note=note, now=now, reason=note)
    await service.unwind(
        session, order, was=was, providers=providers, actor_user_id=None, reason=note, now=now
    )
    return True
