"""Checkout: turn a cart into orders (one per store), reserve their stock, price them.

Everything a checkout does happens in the caller's one transaction: if any line of any order
cannot be reserved, nothing is created and nothing stays reserved.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog.models import Product, Variant
from o2o.core import rawpg
from o2o.core.clock import utcnow
from o2o.core.outbox import emit
from o2o.geo.distance import haversine_m
from o2o.inventory import queries as inventory_queries
from o2o.inventory import reservations
from o2o.inventory.exceptions import InvalidQuantity, UnknownVariant
from o2o.inventory.models import StockLevel
from o2o.inventory.schemas import MAX_QTY
from o2o.merchants import service as merchants_service
from o2o.merchants.exceptions import StoreNotFound
from o2o.merchants.models import Merchant, MerchantStatus, Store
from o2o.orders import promise, reads_pg, routing, windows
from o2o.orders.events import order_payload
from o2o.orders.exceptions import (
    AddressRequired,
    EmptyOrder,
    FulfilmentNotOffered,
    NoShippingSource,
    StoreUnavailable,
    VariantNotSoldHere,
)
from o2o.orders.models import Fulfilment, Order, OrderEvent, OrderLine, OrderStatus
from o2o.orders.policy import OrderPolicy
from o2o.orders.pricing import Discounts, NoDiscounts, PricedLine, totals
from o2o.orders.pricing import Draft as PriceDraft
from o2o.orders.schemas import OrderCreate
from o2o.redemption import service as redemption_service
from o2o.redemption.models import CodeKind, RedemptionCode
from o2o.regions import service as regions_service
from o2o.regions.models import Region

ORDER_PLACED = "order.placed"


Items = dict[int, tuple[Variant, Product]]


@dataclass(frozen=True)
class Part:
    """One store's share of a requested order (``region`` when it was read with the store)."""

    store: Store
    lines: dict[int, int]  # variant -> qty
    items: Items
    region: Region | None = None


@dataclass
class Draft:
    """An order as it will be written: the row, its priced lines, until when its stock is
    held, and its first timeline entry."""

    order: Order
    priced: tuple[PricedLine, ...]
    hold: datetime
    note: str


@dataclass
class Placed:
    """An order just placed, with what a response about it shows (no need to read it back)."""

    order: Order
    store: Store
    lines: list[OrderLine]
    events: list[OrderEvent]
    code: RedemptionCode | None


def merge_lines(data: OrderCreate) -> dict[int, int]:
    if not data.lines:
        raise EmptyOrder("Add at least one line to the order.", field="lines")
    merged: dict[int, int] = defaultdict(int)
    for i, line in enumerate(data.lines):
        if not 1 <= line.qty <= MAX_QTY:
            raise InvalidQuantity(
                f"Line {i + 1}: qty must be between 1 and {MAX_QTY}.", field=f"lines.{i}.qty"
            )
        merged[line.variant_id] += line.qty
    if any(q > MAX_QTY for q in merged.values()):
        raise InvalidQuantity(f"At most {MAX_QTY} of one item per order.", field="lines")
    return dict(merged)


async def load_items(
    session: AsyncSession, ids: list[int], *, store_id: int | None = None
) -> tuple[Items, set[int]]:
    """The variants with their products, in one query; with ``store_id``, also which of them
    the store keeps a stock row for (sells at all)."""
    stocked_here = StockLevel.id.isnot(None) if store_id is not None else literal(False)
    query = (
        select(Variant, Product, stocked_here)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.id.in_(ids))
    )
    if store_id is not None:
        query = query.outerjoin(
            StockLevel,
            and_(StockLevel.variant_id == Variant.id, StockLevel.store_id == store_id),
        )
    found: Items = {}
    stocked: set[int] = set()
    for variant, product, here in await session.execute(query):
        found[variant.id] = (variant, product)
        if here:
            stocked.add(variant.id)
    if missing := sorted(set(ids) - set(found)):
        raise UnknownVariant(f"There is no item (variant) {missing[0]}.", field="lines")
    return found, stocked


async def store_with_items(
    session: AsyncSession, store_id: int, ids: list[int]
) -> tuple[Store, Region, Items, set[int]]:
    """``open_store`` and ``load_items`` in one round trip, with the store's region: the
    store, its merchant and region, the variants and whether the store keeps each."""
    if rawpg.is_postgresql(session):
        return _checked(store_id, ids, await reads_pg.store_with_items(session, store_id, ids))
    rows = (
        await session.execute(
            select(Store, Merchant, Region, Variant, Product, StockLevel.id)
            .join(Merchant, Merchant.id == Store.merchant_id)
            .join(Region, Region.id == Store.region_id)
            .outerjoin(Variant, Variant.id.in_(ids))
            .outerjoin(Product, Product.id == Variant.product_id)
            .outerjoin(
                StockLevel,
                and_(StockLevel.variant_id == Variant.id, StockLevel.store_id == Store.id),
            )
            .where(Store.id == store_id)
        )
    ).all()
    if not rows:
        return _checked(store_id, ids, None)
    items = [
        (variant, product, level_id is not None)
        for _s, _m, _r, variant, product, level_id in rows
        if variant is not None and product is not None
    ]
    return _checked(store_id, ids, (rows[0][0], rows[0][1], rows[0][2], items))


def _checked(
    store_id: int, ids: list[int], read: reads_pg.Rows | None
) -> tuple[Store, Region, Items, set[int]]:
    """The store's rules on what ``store_with_items`` read, whichever way it was read."""
    if read is None:
        raise StoreNotFound(f"No store with id {store_id}.", field="store_id")
    store, merchant, region, rows = read
    if not store.is_active or merchant.status != MerchantStatus.APPROVED:
        raise StoreUnavailable("This store is not taking orders now.", field="store_id")
    found: Items = {}
    stocked: set[int] = set()
    for variant, product, kept in rows:
        found[variant.id] = (variant, product)
        if kept:
            stocked.add(variant.id)
    if missing := sorted(set(ids) - set(found)):
        raise UnknownVariant(f"There is no item (variant) {missing[0]}.", field="lines")
    return store, region, found, stocked


async def open_store(session: AsyncSession, store_id: int) -> tuple[Store, Merchant]:
    try:
        store = await merchants_service.get_store(session, store_id=store_id)
    except StoreNotFound as exc:
        exc.field = "store_id"
        raise
    merchant = await merchants_service.get_merchant(session, merchant_id=store.merchant_id)
    if not store.is_active or merchant.status != MerchantStatus.APPROVED:
        raise StoreUnavailable("This store is not taking orders now.", field="store_id")
    return store, merchant


def offers(store: Store, fulfilment: Fulfilment) -> bool:
    return {
        Fulfilment.PICKUP: store.offers_pickup,
        Fulfilment.RESERVE: store.offers_reserve,
        Fulfilment.DELIVERY: store.offers_delivery,
        Fulfilment.SHIPPING: store.offers_shipping,
    }[fulfilment]


async def _shipping_parts(
    session: AsyncSession, data: OrderCreate, lines: dict[int, int], merchant_id: int, items: Items
) -> list[Part]:
    if data.address is None:
        raise AddressRequired("Shipping needs an address with its position.", field="address")
    address = data.address
    stores = await merchants_service.shipping_stores(session, merchant_id=merchant_id)
    if data.store_id is not None:
        stores = [s for s in stores if s.id == data.store_id] or stores
    stock = await inventory_queries.available_at(
        session, variant_ids=list(lines), store_ids=[s.id for s in stores]
    )
    by_id = {s.id: s for s in stores}
    sources = [
        routing.Source(
            s.id, haversine_m(s.lat, s.lng, address.lat, address.lng), stock.get(s.id, {})
        )
        for s in stores
    ]
    plan = routing.route(lines, sources)
    if plan is None:
        raise NoShippingSource(
            "No store or warehouse of this merchant has these items to ship.", field="lines"
        )
    return [Part(by_id[store_id], take, items) for store_id, take in plan]


async def parts_for(session: AsyncSession, data: OrderCreate) -> list[Part]:
    lines = merge_lines(data)
    if data.fulfilment == Fulfilment.SHIPPING and data.store_id is None:
        items, _ = await load_items(session, list(lines))
        merchants = {variant.merchant_id for variant, _ in items.values()}
        if len(merchants) != 1:
            raise VariantNotSoldHere("Ship one merchant's items per order.", field="lines")
        return await _shipping_parts(session, data, lines, merchants.pop(), items)
    if data.store_id is None:
        raise StoreUnavailable("Choose the store (store_id) for this order.", field="store_id")
    store, region, items, sold = await store_with_items(session, data.store_id, list(lines))
    if data.fulfilment == Fulfilment.SHIPPING:
        return await _shipping_parts(session, data, lines, store.merchant_id, items)
    foreign = [v for v, (variant, _) in items.items() if variant.merchant_id != store.merchant_id]
    unsold = sorted(set(foreign) | (set(lines) - sold))
    if unsold:
        raise VariantNotSoldHere(
            f"This store does not sell item {unsold[0]}; choose another store.",
            field="lines",
            variant_id=unsold[0],
        )
    return [Part(store, lines, items, region)]


async def place_orders(
    session: AsyncSession,
    *,
    shopper_id: int,
    requests: list[OrderCreate],
    policy: OrderPolicy,
    discounts: Discounts | None = None,
    now: datetime | None = None,
) -> list[Order]:
    """Place a checkout: one order per store, all sharing a checkout reference (and paid
    together). Stock is reserved for ``policy.reservation_ttl`` (reserve-to-try: the store's
    hold time). Raises a domain error, having created nothing, if any part is not possible."""
    placed = await place_checkout(
        session,
        shopper_id=shopper_id,
        requests=requests,
        policy=policy,
        discounts=discounts,
        now=now,
    )
    return [p.order for p in placed]


async def place_checkout(
    session: AsyncSession,
    *,
    shopper_id: int,
    requests: list[OrderCreate],
    policy: OrderPolicy,
    discounts: Discounts | None = None,
    now: datetime | None = None,
) -> list[Placed]:
    """``place_orders``, returning each order with its lines, timeline and code as written,
    so the caller can answer without reading them back.

    The stock is taken last: the conditional updates of the stock levels are the checkout's
    final statements, so a popular level's row lock is held only until the commit, not while
    the order's rows are written."""
    now = now or utcnow()
    discounts = discounts or NoDiscounts()
    checkout_ref = secrets.token_hex(8)
    placed: list[Placed] = []
    holds: list[tuple[Store, list[tuple[int, int]], str, datetime]] = []
    for data in requests:
        for part in await parts_for(session, data):
            done, hold = await _place_part(
                session,
                data=data,
                part=part,
                shopper_id=shopper_id,
                policy=policy,
                discounts=discounts,
                checkout_ref=checkout_ref,
                now=now,
            )
            placed.append(done)
            holds.append(hold)
    for store, lines, reference, expires_at in holds:
        await reservations.reserve(
            session,
            store=store,
            lines=lines,
            reference=reference,
            expires_at=expires_at,
            now=now,
        )
    return placed


async def draft_part(
    session: AsyncSession,
    *,
    data: OrderCreate,
    part: Part,
    shopper_id: int,
    policy: OrderPolicy,
    discounts: Discounts,
    checkout_ref: str,
    now: datetime,
) -> Draft:
    """The order a part becomes, priced and checked against the store's rules, not yet
    written (no id)."""
    store = part.store
    if not offers(store, data.fulfilment):
        raise FulfilmentNotOffered(
            f"This store does not offer {data.fulfilment.value}.", field="fulfilment"
        )
    region = part.region or await regions_service.get_region(session, region_id=store.region_id)
    priced = tuple(PricedLine(*part.items[v], q) for v, q in sorted(part.lines.items()))
    order = Order(
        checkout_ref=checkout_ref,
        region_id=store.region_id,
        merchant_id=store.merchant_id,
        store_id=store.id,
        shopper_id=shopper_id,
        fulfilment=data.fulfilment,
        status=OrderStatus.PLACED,
        currency=region.currency,
        reason="",
        refunded=0,
        discount=0,
        fee=0,
        created_at=now,
        updated_at=now,
    )
    fee = 0
    hold = now + policy.reservation_ttl
    if data.fulfilment == Fulfilment.PICKUP:
        if data.pickup_window is None:
            start, end = windows.earliest_window(store, timezone=region.timezone, now=now)
        else:
            start, end = windows.check_window(
                store,
                timezone=region.timezone,
                now=now,
                start=data.pickup_window.start,
                end=data.pickup_window.end,
            )
        order.pickup_start, order.pickup_end = start, end
    elif data.fulfilment == Fulfilment.RESERVE:
        hold = now + timedelta(minutes=store.reserve_hold_minutes)
    elif data.fulfilment == Fulfilment.DELIVERY:
        promise.check_open(store, timezone=region.timezone, now=now)
        outlook = await policy.delivery_outlook(session, store=store, now=now)
        order.distance_m = promise.check_delivery(store, data.address, outlook)
        fee = store.delivery_fee
        order.promised_at = now + timedelta(minutes=outlook.minutes_to(order.distance_m))
    else:
        fee = store.shipping_fee
        order.promised_at = now + timedelta(days=policy.shipping_days)
    if data.address is not None and data.fulfilment in (Fulfilment.DELIVERY, Fulfilment.SHIPPING):
        order.address = data.address.model_dump()
        order.address_lat, order.address_lng = data.address.lat, data.address.lng
        if order.distance_m is None:
            order.distance_m = round(
                haversine_m(store.lat, store.lng, data.address.lat, data.address.lng)
            )
    draft = PriceDraft(shopper_id, store.merchant_id, store.id, priced)
    amounts = await totals(draft, fee=fee, discounts=discounts)
    order.subtotal, order.discount, order.fee = amounts.subtotal, amounts.discount, amounts.fee
    order.total = amounts.total
    order.hold_until = hold
    return Draft(order, priced, hold, data.note[:300])


def lines_of(draft: Draft, order_id: int) -> list[OrderLine]:
    return [
        OrderLine(
            order_id=order_id,
            variant_id=line.variant.id,
            product_id=line.product.id,
            title=line.product.title,
            title_zh=line.product.title_zh,
            sku=line.variant.sku,
            attributes=dict(line.variant.attributes or {}),
            unit_price=line.unit_price,
            qty=line.qty,
            line_total=line.line_total,
            returned_qty=0,
        )
        for line in draft.priced
    ]


def first_event(draft: Draft, order_id: int) -> OrderEvent:
    return OrderEvent(
        order_id=order_id,
        from_status=None,
        status=OrderStatus.PLACED,
        note=draft.note,
        at=draft.order.created_at,
    )


async def _place_part(
    session: AsyncSession,
    *,
    data: OrderCreate,
    part: Part,
    shopper_id: int,
    policy: OrderPolicy,
    discounts: Discounts,
    checkout_ref: str,
    now: datetime,
) -> tuple[Placed, tuple[Store, list[tuple[int, int]], str, datetime]]:
    store = part.store
    draft = await draft_part(
        session,
        data=data,
        part=part,
        shopper_id=shopper_id,
        policy=policy,
        discounts=discounts,
        checkout_ref=checkout_ref,
        now=now,
    )
    order = draft.order
    session.add(order)
    await session.flush()
    lines = lines_of(draft, order.id)
    event = first_event(draft, order.id)
    session.add_all([*lines, event])
    code = None
    if data.fulfilment == Fulfilment.RESERVE:
        code = await redemption_service.issue_code(
            session,
            kind=CodeKind.PICKUP,
            merchant_id=store.merchant_id,
            store_id=store.id,
            subject=order.reference,
        )
    emit(session, ORDER_PLACED, order_payload(order))
    hold_lines = [(line.variant.id, line.qty) for line in draft.priced]
    hold = draft.hold
    return Placed(order, store, lines, [event], code), (store, hold_lines, order.reference, hold)
