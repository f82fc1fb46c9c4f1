"""The shopper's orders: history, one order (timeline, code, cancel), paying, live updates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response, StreamingResponse

from o2o.core.broker import Broker
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.delivery import ending as delivery_ending
from o2o.delivery import summary, tracking
from o2o.delivery.models import ACTIVE
from o2o.http.deps import IdPath, SessionDep, kick_relay, providers_of
from o2o.http.sse import channel_events, format_event
from o2o.merchants import service as merchants_service
from o2o.merchants.models import Store
from o2o.orders import paying as orders_paying
from o2o.orders import queries as orders_queries
from o2o.orders import service as orders_service
from o2o.orders import state
from o2o.orders.channels import order_channel
from o2o.orders.models import Fulfilment, Order, OrderStatus
from o2o.payments import service as payments_service
from o2o.payments.models import PaymentStatus
from o2o.regions import service as regions_service
from o2o.web import deps, vocabulary, when
from o2o.web.deps import UserDep
from o2o.web.qr import scalable_qr
from o2o.web.render import redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(deps.check_csrf)])
PAGE = 10
NAMES = {
    "status_names": vocabulary.ORDER_STATUS,
    "badge_names": vocabulary.ORDER_BADGE,
    "fulfilment_names": vocabulary.FULFILMENT,
}


async def _clock(request: Request, session: SessionDep, order: Order) -> Any:
    """Times of this order in its city's time zone, in the page's language."""
    region = await regions_service.get_region(session, region_id=order.region_id)
    locale = deps.state(request).locale
    return lambda at, d=True: when.local(at, timezone=region.timezone, locale=locale, with_date=d)


@router.get("/orders")
async def history(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    """Newest first, a page at a time (``?before=`` the last id shown)."""
    rows = await orders_queries.shopper_orders(
        session, shopper_id=viewer.user_id, before_id=before, limit=PAGE
    )
    page = rows[:PAGE]
    stores: dict[int, Any] = {}
    items = []
    for order in page:
        if order.store_id not in stores:
            stores[order.store_id] = await merchants_service.get_store(
                session, store_id=order.store_id
            )
        clock = await _clock(request, session, order)
        items.append(
            {
                "order": order,
                "store": stores[order.store_id],
                "lines": await orders_service.lines_of(session, order_id=order.id),
                "placed": clock(order.created_at),
            }
        )
    return render(
        request,
        "shopper/orders.html",
        {
            "tab": "orders",
            "items": items,
            "next_before": page[-1].id if len(rows) > PAGE else None,
            "paged": before is not None,
            **NAMES,
        },
    )


@router.get("/orders/{order_id}")
async def order_page(
    request: Request, session: SessionDep, viewer: UserDep, order_id: IdPath
) -> Response:
    order = await orders_service.order_of_shopper(
        session, order_id=order_id, shopper_id=viewer.user_id
    )
    view = await orders_queries.order_view(session, order)
    store = await merchants_service.get_store(session, store_id=order.store_id)
    code = view.pickup_code
    live_code = code is not None and code.status == "active"
    delivery = None
    live_map: dict[str, Any] | None = None
    if order.fulfilment == Fulfilment.DELIVERY:
        now = utcnow()
        delivery = await tracking.tracking(session, order=order, for_shopper=True, now=now)
        live_map = _live_map(request, order, store, delivery, now)
        if live_map is not None:
            region = await regions_service.get_region(session, region_id=order.region_id)
            live_map["timezone"] = region.timezone
    return render(
        request,
        "shopper/order.html",
        {
            "tab": "orders",
            "order": view,
            "store": store,
            "when": await _clock(request, session, order),
            "qr": scalable_qr(code.code) if code is not None and live_code else None,
            "can_cancel": order.status in state.SHOPPER_CANCELS[order.fulfilment],
            "awaiting_payment": order.status == OrderStatus.PLACED
            and order.fulfilment != Fulfilment.RESERVE,
            "final": order.status in state.FINAL,
            "delivery": delivery,
            "live_map": live_map,
            "mask_phone": tracking.mask_phone,
            **NAMES,
        },
    )


def _live_map(request: Request, order: Order, store: Store, view: tracking.Tracking,
              now: datetime) -> dict[str, Any] | None:  # fmt: skip
    """What the live map starts from, only while a courier has the delivery (assigned or
    picked up): the store, the door, the courier and the stream that moves it."""
    d = view.delivery
    if d is None or d.status not in ACTIVE or view.courier is None:
        return None
    settings = request.app.state.settings
    door = None
    if order.address_lat is not None and order.address_lng is not None:
        door = {"lat": order.address_lat, "lng": order.address_lng}
    return {
        "tiles": settings.map_tiles_url,
        "attribution": settings.map_attribution,
        "store": {"lat": store.lat, "lng": store.lng},
        "door": door,
        "stream": f"/orders/{order.id}/tracking/stream",
        "tracking": summary.tracking_read(view, now).model_dump(
            mode="json", exclude={"delivery_code"}
        ),
    }


@router.get("/orders/{order_id}/tracking/stream")
async def tracking_stream(
    request: Request, session: SessionDep, viewer: UserDep, order_id: IdPath
) -> StreamingResponse:
    """The shopper's live map (the cookie twin of ``/api/v1/orders/{id}/tracking/stream``):
    ``tracking`` events each time the courier moves and ``order`` status changes. The first
    event, once subscribed, is the tracking as it stands (never the delivery code)."""
    order = await orders_service.order_of_shopper(
        session, order_id=order_id, shopper_id=viewer.user_id
    )
    await tracking.tracking(session, order=order, for_shopper=False, now=utcnow())
    await session.close()  # do not hold a connection for the life of the stream
    broker: Broker = request.app.state.broker
    database: Database = request.app.state.database

    async def stream() -> AsyncIterator[str]:
        frames = channel_events(
            broker, [order_channel(order_id)], disconnected=request.is_disconnected,
            event="tracking", keep=lambda m: m.get("type") in ("tracking", "order"),
        )  # fmt: skip
        yield await anext(frames)  # subscribed from here on
        async with database.session() as fresh:
            now = utcnow()
            current = await orders_service.get_order(fresh, order_id=order_id)
            view = await tracking.tracking(fresh, order=current, for_shopper=False, now=now)
            first = summary.tracking_read(view, now).model_dump(mode="json")
        yield format_event({"type": "tracking", **first}, event="tracking")
        async for frame in frames:
            yield frame

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/orders/{order_id}/pay")
async def pay_page(
    request: Request, session: SessionDep, viewer: UserDep, order_id: IdPath
) -> Response:
    """The QR to scan with the wallet, the amount and the time left to pay. Turns into the
    order page by itself once the payment is confirmed (``pay.js`` listens to the order)."""
    order = await orders_service.order_of_shopper(
        session, order_id=order_id, shopper_id=viewer.user_id
    )
    if order.status != OrderStatus.PLACED or order.fulfilment == Fulfilment.RESERVE:
        return redirect(request, f"/orders/{order.id}")
    payment = None
    if order.payment_id is not None:
        payment = await payments_service.get_payment(session, payment_id=order.payment_id)
        if payment.status != PaymentStatus.PENDING:
            payment = None
    store = await merchants_service.get_store(session, store_id=order.store_id)
    merchant = await merchants_service.get_merchant(session, merchant_id=order.merchant_id)
    settings = deps.settings_of(request)
    wallet_link = None
    link = urlsplit(payment.qr_payload if payment else "")
    # In the demo, a wallet that lives on this site (the demo wallet, a provider's sandbox
    # page) can be opened from here, for a visitor without a second phone to scan with.
    if settings.demo_mode and link.netloc == urlsplit(settings.base_url).netloc:
        wallet_link = f"{link.path}?{link.query}" if link.query else link.path
    offered = providers_of(request).offered
    return render(
        request,
        "shopper/pay.html",
        {
            "tab": "orders",
            "order": order,
            "store": store,
            "merchant": merchant,
            "payment": payment,
            "qr": scalable_qr(payment.qr_payload, scale=6) if payment else None,
            "wallet_link": wallet_link,
            "providers": offered,
            "others": [name for name in offered if payment is None or name != payment.provider],
            "provider_names": vocabulary.PROVIDERS,
            "deadline": (payment.expires_at if payment else order.hold_until),
            "when": await _clock(request, session, order),
        },
    )


@router.post("/orders/{order_id}/pay")
async def start_payment(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    order_id: IdPath,
    provider: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """A (new) payment for the order's checkout, with the chosen provider (the first one
    offered by default); asking again returns the pending one, choosing another replaces it."""
    await orders_paying.start_payment(
        session,
        order_id=order_id,
        shopper_id=viewer.user_id,
        provider_name=provider or providers_of(request).default,
        providers=providers_of(request),
    )
    await session.commit()
    return redirect(request, f"/orders/{order_id}/pay")


@router.post("/orders/{order_id}/cancel")
async def cancel(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    order_id: IdPath,
    reason: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Cancel while the state machine lets the shopper: stock back, money refunded. A repeat
    (double tap) finds the order cancelled already and shows it."""
    order = await orders_service.order_of_shopper(
        session, order_id=order_id, shopper_id=viewer.user_id
    )
    if order.status != OrderStatus.CANCELLED:
        await delivery_ending.cancel(
            session,
            order=order,
            actor_user_id=viewer.user_id,
            reason=reason,
            providers=providers_of(request),
        )
        await session.commit()
        kick_relay(request)
    return redirect(request, f"/orders/{order_id}")


@router.get("/orders/{order_id}/events")
async def order_events(
    request: Request, session: SessionDep, viewer: UserDep, order_id: IdPath
) -> StreamingResponse:
    """``order`` events as the order moves. The first event, sent once subscribed, is the
    current status, so a change made while the page was loading is not missed."""
    await orders_service.order_of_shopper(session, order_id=order_id, shopper_id=viewer.user_id)
    await session.close()  # do not hold a connection for the life of the stream
    broker: Broker = request.app.state.broker
    database: Database = request.app.state.database

    async def stream() -> AsyncIterator[str]:
        frames = channel_events(
            broker, [order_channel(order_id)], disconnected=request.is_disconnected, event="order"
        )
        yield await anext(frames)  # subscribed from here on
        async with database.session() as fresh:
            order = await orders_service.get_order(fresh, order_id=order_id)
            now = {"type": "order", "order_id": order.id, "status": order.status.value}
        yield format_event(now, event="order")
        async for frame in frames:
            yield frame

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
