"""A live dispatch round: read the open deliveries and the couriers on shift into a
``Snapshot``, ask the engine for a ``Plan``, and write its assignments back by conditional
updates (``assign.claim``), so that two rounds racing never give one order to two couriers.

Before planning, couriers that went silent lose the deliveries they hold but have not picked
up, and deliveries whose order ended without ending them are cancelled (the order's own use
case normally does it: ``ending``); released deliveries keep their age, so the engine serves
them first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.db import Database
from o2o.delivery import assign, board, ending
from o2o.delivery.dispatch import DispatchConfig, dispatch
from o2o.delivery.model import Courier as EngineCourier
from o2o.delivery.model import OpenOrder, Plan, Snapshot
from o2o.delivery.models import ACTIVE, MAX_OPEN, Courier, Delivery, DeliveryStatus
from o2o.delivery.policy import CourierPolicy
from o2o.delivery.projection import Plane
from o2o.delivery.tracking import eta_seconds
from o2o.merchants.models import Store
from o2o.orders import service as orders_service
from o2o.orders import state
from o2o.orders.models import Order, OrderStatus
from o2o.regions.models import Region

S = OrderStatus
# Orders a courier may still be sent for (paid and not yet out or closed).
DISPATCHABLE = frozenset({S.PAID, S.ACCEPTED, S.PREPARING, S.READY})
SHIFT_AHEAD = timedelta(hours=8)  # shifts have no planned end: plan as if they ran on
# Sends a live message on a broker channel (``Broker.publish``).
Publish = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Round:
    released: int
    assigned: int
    postponed: int


def _epoch(at: datetime) -> float:
    return at.timestamp()


async def end_leftovers(db: Database, *, now: datetime) -> int:
    """Cancel the open deliveries of orders that ended (rejected, cancelled, expired) by a
    path that did not end them (the order's own use case normally does, ``ending``): one
    transaction per order, each locking the order first as every change of an order does.
    How many were cancelled."""
    async with db.session() as session:
        ended = list(
            await session.scalars(
                select(Order.id)
                .join(Delivery, Delivery.order_id == Order.id)
                .where(Delivery.status.in_(ending.UNSTARTED), Order.status.in_(ending.ENDED))
                .order_by(Order.id)
            )
        )
    done = 0
    for order_id in ended:
        async with db.session() as session:
            order = await orders_service.get_order(session, order_id=order_id)
            await orders_service.lock_order(session, order)
            if await ending.end_with_order(session, order=order, now=now) is not None:
                done += 1
            await session.commit()
    return done


async def housekeeping(session: AsyncSession, *, now: datetime, policy: CourierPolicy) -> int:
    """Release what silent couriers hold, assignments not accepted in time, and held
    deliveries whose order was closed otherwise than by ending before the hand-over (those
    are cancelled, ``end_leftovers``)."""
    cutoff = now - timedelta(seconds=policy.stale_seconds)
    silent = list(
        await session.scalars(
            select(Courier.user_id).where(
                Courier.open_count > 0,
                (Courier.last_seen_at.is_(None)) | (Courier.last_seen_at < cutoff),
            )
        )
    )
    released = 0
    for courier_id in silent:
        released += len(
            await assign.release_held(
                session, courier_id=courier_id, now=now, reason="the courier went silent"
            )
        )
    closed = (
        await session.execute(
            select(Delivery.id, Delivery.courier_id)
            .join(Order, Order.id == Delivery.order_id)
            .where(
                Delivery.status == DeliveryStatus.ASSIGNED,
                Order.status.in_(state.FINAL - ending.ENDED),
            )
        )
    ).all()
    unanswered = (
        await session.execute(
            select(Delivery.id, Delivery.courier_id).where(
                Delivery.status == DeliveryStatus.ASSIGNED,
                Delivery.accepted_at.is_(None),
                Delivery.assigned_at < now - timedelta(seconds=policy.accept_seconds),
            )
        )
    ).all()
    for delivery_id, holder in unanswered:
        if holder is not None:
            released += await _unassign(
                session,
                delivery_id=delivery_id,
                courier_id=holder,
                now=now,
                reason="not accepted in time",
            )
    for delivery_id, holder in closed:
        if holder is None:  # pragma: no cover - the CHECK says assigned has a courier
            continue
        released += await _unassign(
            session,
            delivery_id=delivery_id,
            courier_id=holder,
            now=now,
            reason="the order was closed",
        )
    return released


async def _unassign(
    session: AsyncSession, *, delivery_id: int, courier_id: int, now: datetime, reason: str
) -> int:
    """Back to dispatch, if the courier still holds it unpicked; 1 if it went back."""
    done = await session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.courier_id == courier_id,
            Delivery.status == DeliveryStatus.ASSIGNED,
        )
        .values(
            status=DeliveryStatus.REQUESTED,
            courier_id=None,
            assigned_at=None,
            accepted_at=None,
            reason=reason,
            updated_at=now,
        )
        .returning(Delivery.id)
    )
    if done.one_or_none() is None:
        return 0
    await assign.unhold(session, courier_id=courier_id, count=1)
    await assign.purge_trail(session, courier_id=courier_id)
    return 1


def _open_order(delivery: Delivery, order: Order, store: Store, plane: Plane,
                now: datetime) -> OpenOrder:  # fmt: skip
    placed = order.paid_at or order.created_at
    if order.ready_at is not None:
        ready = order.ready_at
    else:  # the store's preparation estimate, never in the past while it is not ready
        ready = max(placed + timedelta(minutes=store.prep_minutes), now)
    due = order.promised_at or placed + timedelta(minutes=store.delivery_minutes)
    lat = order.address_lat if order.address_lat is not None else store.lat
    lng = order.address_lng if order.address_lng is not None else store.lng
    return OpenOrder(
        id=str(delivery.id),
        store=str(store.id),
        pickup=plane.point(store.lat, store.lng),
        dropoff=plane.point(lat, lng),
        placed_at=_epoch(placed),
        ready_at=_epoch(ready),
        due_at=_epoch(due),
    )


async def snapshot(
    session: AsyncSession, *, region: Region, now: datetime, policy: CourierPolicy
) -> Snapshot:
    """What the region's round sees: requested deliveries of dispatchable orders, couriers
    on shift, heard from lately, with room for more, and who declined which delivery."""
    plane = Plane(region.center_lat, region.center_lng)
    rows = (
        await session.execute(
            select(Delivery, Order, Store)
            .join(Order, Order.id == Delivery.order_id)
            .join(Store, Store.id == Delivery.store_id)
            .where(
                Delivery.region_id == region.id,
                Delivery.status.in_([DeliveryStatus.REQUESTED, *ACTIVE]),
            )
            .order_by(Delivery.id)
        )
    ).all()
    waiting = tuple(
        _open_order(d, o, s, plane, now)
        for d, o, s in rows
        if d.status == DeliveryStatus.REQUESTED and o.status in DISPATCHABLE
    )
    cutoff = now - timedelta(seconds=policy.stale_seconds)
    fleet = list(
        await session.scalars(
            select(Courier)
            .where(
                Courier.region_id == region.id,
                Courier.on_shift.is_(True),
                Courier.open_count < MAX_OPEN,
                Courier.last_seen_at >= cutoff,
            )
            .order_by(Courier.user_id)
        )
    )
    engine_couriers = []
    for c in fleet:
        mine = [(d, o, s) for d, o, s in rows if d.courier_id == c.user_id]
        if c.last_lat is None or c.last_lng is None:  # heard from, so placed; be safe
            continue
        position, free_at = plane.point(c.last_lat, c.last_lng), _epoch(now)
        for d, o, s in mine:  # busy until its last hand-over; it ends at that door
            left = eta_seconds(d, c, s, o) or 0.0
            if _epoch(now) + left > free_at and o.address_lat is not None:
                free_at = _epoch(now) + left
                position = plane.point(o.address_lat, o.address_lng or s.lng)
        held = tuple(
            _open_order(d, o, s, plane, now)
            for d, o, s in mine
            if d.status == DeliveryStatus.ASSIGNED
        )
        engine_couriers.append(
            EngineCourier(
                id=str(c.user_id),
                position=position,
                free_at=free_at,
                shift_end=_epoch(now + SHIFT_AHEAD),
                speed=c.speed_m_per_s,
                capacity=MAX_OPEN - c.open_count if mine else MAX_OPEN,
                held=held,
            )
        )
    declined = await assign.declined_pairs(session, delivery_ids=[int(o.id) for o in waiting])
    return Snapshot(
        now=_epoch(now),
        orders=waiting,
        couriers=tuple(engine_couriers),
        forbidden=frozenset((str(d), str(c)) for d, c in declined),
    )


async def persist(
    db: Database,
    plan: Plan,
    *,
    waiting: set[str],
    now: datetime,
    region_id: int | None = None,
    publish: Publish | None = None,
) -> int:
    """Write the plan's assignments, one transaction per bundle; bundles another round (or a
    courier's change of mind) got to first are skipped. Only deliveries that were waiting are
    claimed (what a courier already holds stays as it is). How many deliveries were assigned.
    Each bundle given out is published on the region's board once committed."""
    assigned = 0
    for assignment in plan.assignments:
        ids = [int(o) for o in assignment.orders if o in waiting]
        if not ids:
            continue
        courier_id = int(assignment.courier_id)
        async with db.session() as session:
            won = await assign.claim(session, courier_id=courier_id, delivery_ids=ids, now=now)
            await session.commit()
        if won:
            assigned += len(ids)
            if publish is not None and region_id is not None:
                await publish(
                    *board.changed(
                        region_id, what="assigned", delivery_ids=ids, courier_id=courier_id
                    )
                )
    return assigned


async def run_round(
    db: Database,
    *,
    policy: CourierPolicy,
    now: datetime,
    config: DispatchConfig | None = None,
    publish: Publish | None = None,
) -> Round:
    """One round over every region with deliveries waiting; with ``publish``, what changed
    is told to the regions' boards."""
    config = config or DispatchConfig(round_seconds=policy.round_seconds)
    released = await end_leftovers(db, now=now)
    async with db.session() as session:
        released += await housekeeping(session, now=now, policy=policy)
        await session.commit()
    async with db.session() as session:
        regions = list(
            await session.scalars(
                select(Region)
                .where(
                    Region.id.in_(
                        select(Delivery.region_id).where(
                            Delivery.status == DeliveryStatus.REQUESTED
                        )
                    )
                )
                .order_by(Region.id)
            )
        )
        snapshots = [await snapshot(session, region=r, now=now, policy=policy) for r in regions]
    if released and publish is not None:  # what went back to dispatch waits in these regions
        for region in regions:
            await publish(*board.changed(region.id, what="released"))
    assigned = postponed = 0
    for region, seen in zip(regions, snapshots, strict=True):
        plan = dispatch(seen, config)
        assigned += await persist(
            db,
            plan,
            waiting={o.id for o in seen.orders},
            now=now,
            region_id=region.id,
            publish=publish,
        )
        postponed += len(plan.postponed)
    return Round(released, assigned, postponed)
