"""What each way of getting the goods would cost and when: the checkout's options."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.errors import DomainError
from o2o.inventory import queries as inventory_queries
from o2o.orders import placement, promise, windows
from o2o.orders.models import Fulfilment
from o2o.orders.policy import OrderPolicy
from o2o.orders.pricing import Discounts, Draft, NoDiscounts, PricedLine, totals
from o2o.orders.schemas import FulfilmentQuote, OrderCreate, PickupWindow, QuoteRead, QuoteRequest
from o2o.regions import service as regions_service


async def quote(
    session: AsyncSession,
    *,
    shopper_id: int,
    data: QuoteRequest,
    policy: OrderPolicy,
    discounts: Discounts | None = None,
    now: datetime | None = None,
) -> QuoteRead:
    """Price and timing of pickup, reserve, delivery and shipping for these lines here; an
    option that is not possible says why (the code ``POST /orders`` would answer)."""
    now = now or utcnow()
    request = OrderCreate(store_id=data.store_id, fulfilment=Fulfilment.PICKUP, lines=data.lines)
    lines = placement.merge_lines(request)
    store, _merchant = await placement.open_store(session, data.store_id)
    region = await regions_service.get_region(session, region_id=store.region_id)
    variants, _ = await placement.load_items(session, list(lines))
    priced = tuple(PricedLine(*variants[v], q) for v, q in sorted(lines.items()))
    draft = Draft(shopper_id, store.merchant_id, store.id, priced)
    stock = (
        await inventory_queries.available_at(session, variant_ids=list(lines), store_ids=[store.id])
    ).get(store.id, {})
    in_stock = all(
        variants[v][0].merchant_id == store.merchant_id and stock.get(v, 0) >= q
        for v, q in lines.items()
    )
    options: list[FulfilmentQuote] = []
    for fulfilment in Fulfilment:
        fee = {Fulfilment.DELIVERY: store.delivery_fee, Fulfilment.SHIPPING: store.shipping_fee}
        amounts = await totals(
            draft, fee=fee.get(fulfilment, 0), discounts=discounts or NoDiscounts()
        )
        option = FulfilmentQuote(
            fulfilment=fulfilment,
            available=True,
            subtotal=amounts.subtotal,
            fee=amounts.fee,
            total=amounts.total,
            currency=region.currency,
        )
        try:
            if not placement.offers(store, fulfilment):
                option.available, option.reason = False, "fulfilment_not_offered"
            elif fulfilment != Fulfilment.SHIPPING and not in_stock:
                option.available, option.reason = False, "insufficient_stock"
            elif fulfilment == Fulfilment.PICKUP:
                start, end = windows.earliest_window(store, timezone=region.timezone, now=now)
                option.ready_at, option.pickup_window = start, PickupWindow(start=start, end=end)
            elif fulfilment == Fulfilment.RESERVE:
                option.ready_at = now + timedelta(minutes=store.prep_minutes)
            elif fulfilment == Fulfilment.DELIVERY:
                promise.check_open(store, timezone=region.timezone, now=now)
                outlook = await policy.delivery_outlook(session, store=store, now=now)
                distance = promise.check_delivery(store, data.address, outlook)
                option.arrive_by = now + timedelta(minutes=outlook.minutes_to(distance))
            else:
                option.arrive_by = now + timedelta(days=policy.shipping_days)
        except DomainError as exc:
            option.available, option.reason = False, exc.code
        options.append(option)
    return QuoteRead(store_id=store.id, options=options)
