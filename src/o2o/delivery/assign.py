"""Deliveries between the order and the courier: requested once per order, assigned by
conditional updates (one courier per delivery; at most ``MAX_OPEN`` per courier), released
back to dispatch when the courier declines, goes silent or leaves its shift."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.delivery.exceptions import (
    AlreadyDelivered,
    AlreadyPickedUp,
    CarriedByStore,
    CourierNotFound,
    DeliveryCancelled,
    DeliveryNotFound,
    TargetAtBundleLimit,
    TargetInOtherRegion,
    TargetOffShift,
)
from o2o.delivery.models import (
    ACTIVE,
    MAX_OPEN,
    Courier,
    CourierPosition,
    Delivery,
    DeliveryDecline,
)
from o2o.delivery.models import DeliveryStatus as D
from o2o.orders import service as orders_service
from o2o.orders.models import Fulfilment, Order
from o2o.orders.state import FINAL
from o2o.redemption import service as redemption_service
from o2o.redemption.models import CodeKind


async def delivery_of_order(session: AsyncSession, *, order_id: int) -> Delivery | None:
    return await session.scalar(
        select(Delivery)
        .where(Delivery.order_id == order_id)
        .execution_options(populate_existing=True)
    )


async def request_delivery(
    session: AsyncSession, *, order_id: int, now: datetime
) -> Delivery | None:
    """The delivery of a paid delivery order, made once (a repeated request returns the same
    row) with the delivery code the shopper shows the courier. None for other orders, and for
    an order that ended before it was asked for (rejected or cancelled right after paying): the
    order is locked first, so a rejection racing the request either finds the delivery made
    (and cancels it) or is seen here."""
    found = await delivery_of_order(session, order_id=order_id)
    if found is not None:
        return found
    order = await orders_service.get_order(session, order_id=order_id)
    if order.fulfilment != Fulfilment.DELIVERY:
        return None
    await orders_service.lock_order(session, order)
    if order.status in FINAL:
        return None
    found = await delivery_of_order(session, order_id=order_id)
    if found is not None:
        return found
    row = Delivery(
        order_id=order.id,
        store_id=order.store_id,
        region_id=order.region_id,
        status=D.REQUESTED,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:  # another worker made it meanwhile
        return await delivery_of_order(session, order_id=order_id)
    await redemption_service.issue_code(
        session,
        kind=CodeKind.DELIVERY,
        merchant_id=order.merchant_id,
        store_id=order.store_id,
        subject=order.reference,
    )
    return row


class _Lost(Exception):
    """Someone else got there first: undo this bundle's claim."""


async def claim(
    session: AsyncSession, *, courier_id: int, delivery_ids: list[int], now: datetime
) -> bool:
    """Give the requested deliveries to the courier, all or none. Each delivery leaves
    ``requested`` by a conditional update (a second dispatcher finds it taken), and the
    courier's open count rises only while it stays within the limit (and the CHECK backs that
    up). Rows are locked delivery by delivery in id order, then the courier: the same order in
    every claim, so racing dispatchers wait for each other instead of deadlocking."""
    ids = sorted(set(delivery_ids))
    if not ids:
        return False
    try:
        async with session.begin_nested():
            for delivery_id in ids:
                won = await session.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery_id, Delivery.status == D.REQUESTED)
                    .values(
                        status=D.ASSIGNED,
                        courier_id=courier_id,
                        assigned_at=now,
                        accepted_at=None,
                        updated_at=now,
                    )
                    .returning(Delivery.id)
                )
                if won.one_or_none() is None:
                    raise _Lost
            room = await session.execute(
                update(Courier)
                .where(
                    Courier.user_id == courier_id,
                    Courier.on_shift.is_(True),
                    Courier.open_count + len(ids) <= MAX_OPEN,
                )
                .values(open_count=Courier.open_count + len(ids))
                .returning(Courier.user_id)
            )
            if room.one_or_none() is None:
                raise _Lost
    except (_Lost, IntegrityError):
        return False
    return True


async def unhold(session: AsyncSession, *, courier_id: int, count: int) -> None:
    """The courier holds ``count`` deliveries fewer (never below zero)."""
    if count:
        await session.execute(
            update(Courier)
            .where(Courier.user_id == courier_id, Courier.open_count >= count)
            .values(open_count=Courier.open_count - count)
        )


async def release_held(
    session: AsyncSession, *, courier_id: int, now: datetime, reason: str
) -> list[int]:
    """Deliveries the courier holds but has not picked up go back to dispatch."""
    released = list(
        (
            await session.execute(
                update(Delivery)
                .where(Delivery.courier_id == courier_id, Delivery.status == D.ASSIGNED)
                .values(
                    status=D.REQUESTED,
                    courier_id=None,
                    assigned_at=None,
                    accepted_at=None,
                    reason=reason[:300],
                    updated_at=now,
                )
                .returning(Delivery.id)
            )
        ).scalars()
    )
    await unhold(session, courier_id=courier_id, count=len(released))
    await purge_trail(session, courier_id=courier_id)
    return released


async def purge_trail(session: AsyncSession, *, courier_id: int) -> None:
    """Forget where the courier went once it holds no delivery in progress."""
    busy = exists().where(Delivery.courier_id == courier_id, Delivery.status.in_(ACTIVE))
    if not await session.scalar(select(busy)):
        await session.execute(
            delete(CourierPosition).where(CourierPosition.courier_id == courier_id)
        )


async def remember_decline(
    session: AsyncSession, *, delivery_id: int, courier_id: int, now: datetime
) -> None:
    """The courier declined the delivery: no round offers it to that courier again."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(DeliveryDecline)
        .values(delivery_id=delivery_id, courier_id=courier_id, at=now)
        .on_conflict_do_nothing(index_elements=["delivery_id", "courier_id"])
    )


async def declined_pairs(session: AsyncSession, *, delivery_ids: list[int]) -> set[tuple[int, int]]:
    """(delivery, courier) pairs of the given deliveries that a courier declined."""
    if not delivery_ids:
        return set()
    rows = await session.execute(
        select(DeliveryDecline.delivery_id, DeliveryDecline.courier_id).where(
            DeliveryDecline.delivery_id.in_(delivery_ids)
        )
    )
    return {(int(d), int(c)) for d, c in rows}


# Statuses a delivery can no longer be given to another courier from, and why.
_NOT_MOVABLE = {
    D.PICKED_UP: AlreadyPickedUp,
    D.FAILED: AlreadyPickedUp,
    D.DELIVERED: AlreadyDelivered,
    D.RETURNED: DeliveryCancelled,
    D.CANCELLED: DeliveryCancelled,
    D.BY_STORE: CarriedByStore,
}


async def _movable(session: AsyncSession, *, delivery_id: int) -> Delivery:
    """The delivery, row-locked, if an operator may still move it: not picked up, not done,
    and its order still open; else the refusal, with a stable code."""
    delivery = await session.scalar(
        select(Delivery)
        .where(Delivery.id == delivery_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if delivery is None:
        raise DeliveryNotFound(f"There is no delivery {delivery_id}.")
    refusal = _NOT_MOVABLE.get(delivery.status)
    if refusal is not None:
        raise refusal(f"The delivery is {delivery.status.value}.", current=delivery.status.value)
    order_status = await session.scalar(select(Order.status).where(Order.id == delivery.order_id))
    if order_status in FINAL:
        raise DeliveryCancelled(f"The order is {order_status}.", current=str(order_status))
    return delivery


async def unassign(
    session: AsyncSession, *, delivery_id: int, now: datetime
) -> tuple[Delivery, int | None]:
    """An operator sends a held delivery (not yet picked up) back to dispatch: it waits again
    (keeping its age, so the next round serves it first) and its courier no longer holds it.
    Returns the delivery and the courier it was taken from (None if it was waiting already).
    Locks the delivery, then the courier (through its count): the order of ``claim``."""
    delivery = await _movable(session, delivery_id=delivery_id)
    previous = delivery.courier_id
    if previous is None:
        return delivery, None  # waiting already: nothing to move
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id)
        .values(
            status=D.REQUESTED,
            courier_id=None,
            assigned_at=None,
            accepted_at=None,
            reason="sent back to dispatch by an operator",
            updated_at=now,
        )
    )
    await unhold(session, courier_id=previous, count=1)
    await purge_trail(session, courier_id=previous)
    await session.flush()
    await session.refresh(delivery)
    return delivery, previous


async def reassign(
    session: AsyncSession, *, delivery_id: int, courier_id: int, now: datetime
) -> tuple[Delivery, int | None]:
    """An operator gives the delivery to another courier (or to one, if it waits): the new
    courier gets it as dispatch gives one (assigned, to accept within the usual time), and
    the old one's hold is released. Returns the delivery and the courier it was taken from.

    The delivery row is locked first, then both couriers' rows in id order: the order of
    ``claim`` (deliveries, then the courier), so reassignments and dispatch rounds racing
    for the same rows wait for each other instead of deadlocking or double-assigning."""
    delivery = await _movable(session, delivery_id=delivery_id)
    previous = delivery.courier_id
    if previous == courier_id:
        return delivery, None  # already theirs: nothing to move
    ids = sorted({courier_id} | ({previous} if previous is not None else set()))
    locked = {
        c.user_id: c
        for c in await session.scalars(
            select(Courier)
            .where(Courier.user_id.in_(ids))
            .order_by(Courier.user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    target = locked.get(courier_id)
    if target is None:
        raise CourierNotFound(f"There is no courier {courier_id}.", field="courier_id")
    if not target.on_shift:
        raise TargetOffShift(f"Courier {courier_id} is off shift.", field="courier_id")
    if target.region_id != delivery.region_id:
        raise TargetInOtherRegion(
            f"Courier {courier_id} works in another region.", field="courier_id"
        )
    if target.open_count + 1 > MAX_OPEN:
        raise TargetAtBundleLimit(
            f"Courier {courier_id} already holds {target.open_count} (the limit is {MAX_OPEN}).",
            field="courier_id",
        )
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id)
        .values(
            status=D.ASSIGNED,
            courier_id=courier_id,
            assigned_at=now,
            accepted_at=None,
            reason="reassigned by an operator",
            updated_at=now,
        )
    )
    await session.execute(
        update(Courier)
        .where(Courier.user_id == courier_id)
        .values(open_count=Courier.open_count + 1)
    )
    if previous is not None:
        await unhold(session, courier_id=previous, count=1)
        await purge_trail(session, courier_id=previous)
    await session.flush()
    await session.refresh(delivery)
    return delivery, previous
