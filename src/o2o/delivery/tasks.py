"""What a courier does with a delivery it was given: accept or decline it, pick it up, hand
it over with the shopper's code, or report it failed and bring it back.

Every step locks the order first (the lock order of every change of an order), then moves the
delivery by a conditional update on its id, its courier and its status: only the assigned
courier can move it, and of two identical requests racing only one succeeds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.delivery import assign
from o2o.delivery.exceptions import (
    DeliveryChanged,
    DeliveryNotFound,
    NotReadyForPickup,
    WrongDeliveryCode,
)
from o2o.delivery.models import Delivery
from o2o.delivery.models import DeliveryStatus as D
from o2o.orders import handover
from o2o.orders import service as orders_service
from o2o.orders.models import Order
from o2o.payments.service import Providers
from o2o.redemption import service as redemption_service
from o2o.redemption.exceptions import CodeOfAnotherStore, UnknownCode
from o2o.redemption.models import CodeKind


async def _mine(session: AsyncSession, *, delivery_id: int, courier_id: int) -> Delivery:
    found = await session.get(Delivery, delivery_id, populate_existing=True)
    if found is None or found.courier_id != courier_id:
        raise DeliveryNotFound(f"You have no delivery {delivery_id}.")
    return found


async def _locked(session: AsyncSession, delivery: Delivery) -> Order:
    order = await orders_service.get_order(session, order_id=delivery.order_id)
    await orders_service.lock_order(session, order)
    await session.refresh(delivery)
    return order


async def _step(
    session: AsyncSession,
    delivery: Delivery,
    *,
    by: int,
    was: D,
    now: datetime,
    **values: Any,
) -> None:
    moved = (
        await session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery.id,
                Delivery.courier_id == by,
                Delivery.status == was,
            )
            .values(updated_at=now, **values)
            .returning(Delivery.id)
        )
    ).one_or_none()
    if moved is None:
        await session.refresh(delivery)
        raise DeliveryChanged(
            f"The delivery is {delivery.status.value}, not {was.value}.",
            current=delivery.status.value,
        )
    await session.refresh(delivery)


async def accept(
    session: AsyncSession, *, delivery_id: int, courier_id: int, now: datetime | None = None
) -> Delivery:
    """The courier takes the assignment on (again: nothing changes)."""
    now = now or utcnow()
    delivery = await _mine(session, delivery_id=delivery_id, courier_id=courier_id)
    if delivery.accepted_at is not None and delivery.status == D.ASSIGNED:
        return delivery
    await _step(session, delivery, by=courier_id, was=D.ASSIGNED, now=now, accepted_at=now)
    return delivery


async def decline(
    session: AsyncSession, *, delivery_id: int, courier_id: int, now: datetime | None = None
) -> Delivery:
    """The courier will not take it: back to dispatch for the next round, which offers it
    to anyone but this courier."""
    now = now or utcnow()
    delivery = await _mine(session, delivery_id=delivery_id, courier_id=courier_id)
    await _step(
        session, delivery, by=courier_id, was=D.ASSIGNED, now=now,
        status=D.REQUESTED, courier_id=None, assigned_at=None, accepted_at=None,
        declines=Delivery.declines + 1, reason="declined by the courier",
    )  # fmt: skip
    await assign.remember_decline(session, delivery_id=delivery.id, courier_id=courier_id, now=now)
    await assign.unhold(session, courier_id=courier_id, count=1)
    await assign.purge_trail(session, courier_id=courier_id)
    return delivery


async def pick_up(
    session: AsyncSession, *, delivery_id: int, courier_id: int, now: datetime | None = None
) -> Delivery:
    """The courier has the goods; the order goes out for delivery. Only once the store has
    the order ready (or has handed it over)."""
    now = now or utcnow()
    delivery = await _mine(session, delivery_id=delivery_id, courier_id=courier_id)
    order = await _locked(session, delivery)
    if order.status not in handover.PICKABLE:
        raise NotReadyForPickup(f"The order is {order.status.value}; wait until it is ready.")
    await _step(
        session, delivery, by=courier_id, was=D.ASSIGNED, now=now,
        status=D.PICKED_UP, picked_up_at=now, accepted_at=delivery.accepted_at or now,
    )  # fmt: skip
    await handover.picked_up(session, order=order, courier_user_id=courier_id, now=now)
    return delivery


async def deliver(
    session: AsyncSession,
    *,
    delivery_id: int,
    courier_id: int,
    code_text: str,
    now: datetime | None = None,
) -> Delivery:
    """The shopper's code was typed: it is redeemed (once) and the order is delivered."""
    now = now or utcnow()
    delivery = await _mine(session, delivery_id=delivery_id, courier_id=courier_id)
    order = await _locked(session, delivery)
    try:
        code = await redemption_service.find_code(
            session, text=code_text, merchant_id=order.merchant_id, store_id=order.store_id
        )
    except (UnknownCode, CodeOfAnotherStore) as exc:
        raise WrongDeliveryCode("This is not the code of this delivery.", field="code") from exc
    if code.kind != CodeKind.DELIVERY or code.subject != order.reference:
        raise WrongDeliveryCode("This is not the code of this delivery.", field="code")
    await _step(
        session, delivery, by=courier_id, was=D.PICKED_UP, now=now,
        status=D.DELIVERED, delivered_at=now,
    )  # fmt: skip
    await redemption_service.mark_redeemed(
        session, code=code, store_id=order.store_id, actor_user_id=courier_id, now=now
    )
    await handover.delivered(session, order=order, courier_user_id=courier_id, now=now)
    await assign.unhold(session, courier_id=courier_id, count=1)
    await assign.purge_trail(session, courier_id=courier_id)
    return delivery


async def fail(
    session: AsyncSession,
    *,
    delivery_id: int,
    courier_id: int,
    reason: str,
    now: datetime | None = None,
) -> Delivery:
    """The shopper could not be reached: the goods go back to the store."""
    now = now or utcnow()
    delivery = await _mine(session, delivery_id=delivery_id, courier_id=courier_id)
    await _locked(session, delivery)
    await _step(
        session, delivery, by=courier_id, was=D.PICKED_UP, now=now,
        status=D.FAILED, failed_at=now, reason=reason.strip()[:300] or "customer unreachable",
    )  # fmt: skip
    await assign.purge_trail(session, courier_id=courier_id)
    return delivery


async def give_back(
    session: AsyncSession,
    *,
    delivery_id: int,
    courier_id: int,
    providers: Providers,
    now: datetime | None = None,
) -> Delivery:
    """The failed delivery is back at the store: the order is cancelled, restocked and
    refunded, and the courier is free of it."""
    now = now or utcnow()
    delivery = await _mine(session, delivery_id=delivery_id, courier_id=courier_id)
    order = await _locked(session, delivery)
    await _step(
        session, delivery, by=courier_id, was=D.FAILED, now=now,
        status=D.RETURNED, returned_at=now,
    )  # fmt: skip
    await handover.returned(
        session, order=order, courier_user_id=courier_id, reason=delivery.reason,
        providers=providers, now=now,
    )  # fmt: skip
    await assign.unhold(session, courier_id=courier_id, count=1)
    return delivery
