"""Read models of orders: the full view for the shopper and for staff, lists and queues."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.inventory import queries as inventory_queries
from o2o.merchants.models import Store
from o2o.merchants.schemas import NearbyStoreRead
from o2o.orders import state
from o2o.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from o2o.orders.placement import Placed
from o2o.orders.schemas import (
    EventRead,
    LineRead,
    OrderRead,
    PickupCodeRead,
    PickupWindow,
)
from o2o.redemption import codes
from o2o.redemption import service as redemption_service
from o2o.redemption.models import CodeKind, CodeStatus, RedemptionCode


async def order_view(session: AsyncSession, order: Order, *, for_staff: bool = False) -> OrderRead:
    """Everything about one order. The pickup code is shown to its shopper only."""
    (view,) = await order_views(session, [order], for_staff=for_staff)
    return view


async def order_views(
    session: AsyncSession, orders: list[Order], *, for_staff: bool = False
) -> list[OrderRead]:
    """Views of many orders in a fixed number of queries (a page of history or a queue)."""
    if not orders:
        return []
    ids = [o.id for o in orders]
    stores = {
        s.id: s
        for s in await session.scalars(
            select(Store).where(Store.id.in_({o.store_id for o in orders}))
        )
    }
    siblings: dict[str, list[int]] = defaultdict(list)
    for ref, order_id in await session.execute(
        select(Order.checkout_ref, Order.id)
        .where(Order.checkout_ref.in_({o.checkout_ref for o in orders}))
        .order_by(Order.id)
    ):
        siblings[ref].append(order_id)
    lines: dict[int, list[LineRead]] = defaultdict(list)
    for line in await session.scalars(
        select(OrderLine).where(OrderLine.order_id.in_(ids)).order_by(OrderLine.id)
    ):
        lines[line.order_id].append(LineRead.model_validate(line))
    events: dict[int, list[EventRead]] = defaultdict(list)
    for event in await session.scalars(
        select(OrderEvent).where(OrderEvent.order_id.in_(ids)).order_by(OrderEvent.id)
    ):
        events[event.order_id].append(EventRead.model_validate(event))
    codes_by_subject: dict[str, RedemptionCode] = {}
    if not for_staff:
        codes_by_subject = await redemption_service.codes_for(
            session, subjects=[o.reference for o in orders], kind=CodeKind.PICKUP
        )
    return [
        _view(
            order,
            stores[order.store_id],
            siblings[order.checkout_ref],
            lines[order.id],
            events[order.id],
            codes_by_subject.get(order.reference),
            for_staff=for_staff,
        )
        for order in orders
    ]


def placed_views(placed: list[Placed]) -> list[OrderRead]:
    """Views of orders just placed, from what was written (no reads)."""
    siblings = [p.order.id for p in placed]
    return [
        _view(
            p.order,
            p.store,
            siblings,
            [LineRead.model_validate(line) for line in p.lines],
            [EventRead.model_validate(e) for e in p.events],
            p.code,
            for_staff=False,
        )
        for p in placed
    ]


def _view(
    order: Order,
    store: Store,
    siblings: list[int],
    lines: list[LineRead],
    events: list[EventRead],
    code: RedemptionCode | None,
    *,
    for_staff: bool,
) -> OrderRead:
    pickup: PickupCodeRead | None = None
    if code is not None and code.status != CodeStatus.VOID:
        pickup = PickupCodeRead(
            code=code.code,
            display=codes.display(code.code),
            status=code.status.value,
            qr_url=f"/api/v1/orders/{order.id}/pickup-code.svg",
        )
    window = (
        PickupWindow(start=order.pickup_start, end=order.pickup_end)
        if order.pickup_start and order.pickup_end
        else None
    )
    return OrderRead(
        id=order.id,
        checkout_ref=order.checkout_ref,
        checkout_order_ids=siblings,
        status=order.status,
        fulfilment=order.fulfilment,
        region_id=order.region_id,
        merchant_id=order.merchant_id,
        store_id=order.store_id,
        store_name=store.name,
        store_name_zh=store.name_zh,
        currency=order.currency,
        subtotal=order.subtotal,
        discount=order.discount,
        fee=order.fee,
        total=order.total,
        refunded=order.refunded,
        payment_id=order.payment_id,
        hold_until=order.hold_until,
        pickup_window=window,
        address=order.address,
        distance_m=order.distance_m,
        promised_at=order.promised_at,
        reason=order.reason,
        created_at=order.created_at,
        paid_at=order.paid_at,
        ready_at=order.ready_at,
        lines=lines,
        events=events,
        pickup_code=pickup,
        next_actions=state.staff_next(order.fulfilment, order.status) if for_staff else [],
    )


async def shopper_orders(
    session: AsyncSession, *, shopper_id: int, before_id: int | None, limit: int
) -> list[Order]:
    """The shopper's orders, newest first; ``limit + 1`` to tell if there are more."""
    query = select(Order).where(Order.shopper_id == shopper_id)
    if before_id is not None:
        query = query.where(Order.id < before_id)
    return list(await session.scalars(query.order_by(Order.id.desc()).limit(limit + 1)))


async def store_orders(
    session: AsyncSession,
    *,
    store_id: int,
    statuses: list[OrderStatus] | None,
    before_id: int | None,
    limit: int,
) -> list[Order]:
    """A store's orders, newest first (by default its live queue); ``limit + 1`` fetched."""
    wanted = statuses or sorted(state.QUEUE, key=list(OrderStatus).index)
    query = select(Order).where(Order.store_id == store_id, Order.status.in_(wanted))
    if before_id is not None:
        query = query.where(Order.id < before_id)
    return list(await session.scalars(query.order_by(Order.id.desc()).limit(limit + 1)))


async def stores_that_can_fill(
    session: AsyncSession,
    *,
    merchant_id: int,
    lines: dict[int, int],
    lat: float,
    lng: float,
    radius_m: float,
    limit: int = 8,
) -> list[NearbyStoreRead]:
    """The merchant's stores near a point that have every line's quantity available now,
    nearest first: where a checkout could move its order to."""
    if not lines:
        return []
    first, qty = next(iter(lines.items()))
    page = await inventory_queries.nearby_with_stock(
        session, lat=lat, lng=lng, radius_m=radius_m, variant_id=first, min_qty=qty, limit=50
    )
    mine = [s for s in page.items if s.merchant_id == merchant_id]
    stock = await inventory_queries.available_at(
        session, variant_ids=list(lines), store_ids=[s.id for s in mine]
    )
    return [s for s in mine if all(stock.get(s.id, {}).get(v, 0) >= q for v, q in lines.items())][
        :limit
    ]
