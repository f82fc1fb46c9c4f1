"""A courier carries a delivery order: picks it up at the store, hands it to the shopper, or
brings it back when the shopper could not be reached. The delivery service calls these after
taking the order's lock; each is a conditional status change like every other step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.orders import service
from o2o.orders.exceptions import InvalidTransition
from o2o.orders.models import Fulfilment, Order, OrderStatus
from o2o.payments.service import Providers
from o2o.redemption import service as redemption_service

S = OrderStatus
# The store has the goods ready (or already handed them over itself).
PICKABLE = frozenset({S.READY, S.OUT_FOR_DELIVERY})


def _delivery(order: Order) -> None:
    if order.fulfilment != Fulfilment.DELIVERY:
        raise InvalidTransition("Only a delivery order is carried by a courier.")


async def picked_up(
    session: AsyncSession, *, order: Order, courier_user_id: int, now: datetime
) -> Order:
    """The courier has the goods: ready → out_for_delivery (already there: nothing to do)."""
    _delivery(order)
    if order.status == S.READY:
        await service.move(
            session, order, S.OUT_FOR_DELIVERY, actor_user_id=courier_user_id, now=now,
            note="picked up by the courier",
        )  # fmt: skip
    elif order.status != S.OUT_FOR_DELIVERY:
        raise InvalidTransition(f"The order is {order.status.value}; it cannot be picked up.")
    return order


async def delivered(
    session: AsyncSession, *, order: Order, courier_user_id: int, now: datetime
) -> Order:
    """The shopper took the goods: out_for_delivery → delivered."""
    _delivery(order)
    if order.status != S.OUT_FOR_DELIVERY:
        raise InvalidTransition(f"The order is {order.status.value}; it cannot be delivered.")
    await service.move(session, order, S.DELIVERED, actor_user_id=courier_user_id, now=now)
    return order


async def returned(
    session: AsyncSession,
    *,
    order: Order,
    courier_user_id: int,
    reason: str,
    providers: Providers,
    now: datetime,
) -> Order:
    """The goods are back at the store undelivered: the order is cancelled, its units go
    back on the shelf and the shopper's money back to the shopper."""
    _delivery(order)
    if order.status != S.OUT_FOR_DELIVERY:
        raise InvalidTransition(f"The order is {order.status.value}; it was not out.")
    why = f"delivery failed: {reason}".strip()[:300]
    await service.move(
        session, order, S.CANCELLED, actor_user_id=courier_user_id, now=now, note=why, reason=why
    )
    await service.restock(session, order, actor_user_id=courier_user_id)
    await service.refund(session, order, providers=providers, reason=why)
    await redemption_service.void_codes(session, subject=order.reference)
    return order
