"""Merchant console: the live order queue, pick lists, and the counter ("核销").

The queue page listens to the store's order channel (server-sent events) and reloads its
board when anything changes; every step is a form post to the order service, which alone
decides what may follow what. The counter redeems a typed or scanned code through the
pickup service and shows what to hand over.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response, StreamingResponse

from o2o.core.errors import DomainError
from o2o.delivery import by_store
from o2o.http.deps import IdPath, OptionalIdQuery, SessionDep, kick_relay
from o2o.http.sse import channel_events
from o2o.merchants.models import Store
from o2o.orders import queries as orders_queries
from o2o.orders import service as orders_service
from o2o.orders.channels import store_channel
from o2o.orders.models import OrderStatus
from o2o.payments.service import Providers
from o2o.pickup import service as pickup_service
from o2o.redemption import codes
from o2o.web import deps, order_board, vocabulary
from o2o.web.deps import UserDep
from o2o.web.errors import error_page
from o2o.web.render import redirect, render
from o2o.web.routes.merchant import store_for, store_index, stores_of

router = APIRouter(
    prefix="/merchant", include_in_schema=False, dependencies=[Depends(deps.check_csrf)]
)
WORDS = {
    "status_names": vocabulary.ORDER_STATUSES,
    "fulfilments": vocabulary.FULFILMENTS,
    "action_names": vocabulary.ORDER_ACTIONS,
}


async def pick_store(request: Request, session: SessionDep, viewer: UserDep, page: str) -> Response:
    """One store: go straight to its ``page``; several: the list of stores to choose from."""
    groups = await stores_of(session, viewer)
    stores = [s for _m, ss in groups for s in ss]
    if len(stores) == 1:
        return redirect(request, f"/merchant/stores/{stores[0].id}/{page}")
    return store_index(request, viewer, groups, section=page)


@router.get("/orders")
async def pick_orders_store(
    request: Request, session: SessionDep, viewer: UserDep, store: OptionalIdQuery = None
) -> Response:
    if store is not None:
        return redirect(request, f"/merchant/stores/{store}/orders")
    return await pick_store(request, session, viewer, "orders")


@router.get("/counter")
async def pick_counter_store(
    request: Request, session: SessionDep, viewer: UserDep, store: OptionalIdQuery = None
) -> Response:
    if store is not None:
        return redirect(request, f"/merchant/stores/{store}/counter")
    return await pick_store(request, session, viewer, "counter")


async def _board(
    request: Request,
    session: SessionDep,
    store: Store,
    *,
    template: str,
    status: int = 200,
    error: str | None = None,
) -> Response:
    board = await order_board.board_of(session, store=store)
    context: dict[str, Any] = {
        "section": "orders",
        "store": store,
        "board": board,
        "error": error,
        **WORDS,
    }
    return render(request, template, context, status=status)


@router.get("/stores/{store_id}/orders")
async def order_queue(
    request: Request, session: SessionDep, viewer: UserDep, store_id: IdPath
) -> Response:
    store = await store_for(session, viewer, store_id)
    return await _board(request, session, store, template="merchant/orders.html")


@router.get("/stores/{store_id}/orders/board")
async def order_board_fragment(
    request: Request, session: SessionDep, viewer: UserDep, store_id: IdPath
) -> Response:
    """Just the columns: what the queue page swaps in when the store's orders change."""
    store = await store_for(session, viewer, store_id)
    return await _board(request, session, store, template="merchant/_order_board.html")


@router.get("/stores/{store_id}/orders/stream")
async def order_stream(
    request: Request, session: SessionDep, viewer: UserDep, store_id: IdPath
) -> StreamingResponse:
    """``order`` events the moment an order of the store is placed or moves on."""
    store = await store_for(session, viewer, store_id)
    await session.close()  # do not hold a connection for the life of the stream
    stream = channel_events(
        request.app.state.broker,
        [store_channel(store.id)],
        disconnected=request.is_disconnected,
        event="order",
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/stores/{store_id}/orders/{order_id}/transitions")
async def move_order(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    store_id: IdPath,
    order_id: IdPath,
    to: Annotated[OrderStatus, Form()],
    reason: Annotated[str, Form(max_length=300)] = "",
    own_staff: Annotated[bool, Form()] = False,
) -> Response:
    """Accept, reject (with a reason), prepare, mark ready, hand over (a delivery order to
    the courier holding it, or with ``own_staff`` to the store's own staff, freeing any
    courier), ship, deliver; the answer is the refreshed board (HTMX) or the queue page."""
    store = await store_for(session, viewer, store_id)
    providers: Providers = request.app.state.payment_providers
    error: str | None = None
    status = 200
    try:
        order = await orders_service.order_at_store(session, order_id=order_id, store_id=store.id)
        await by_store.transition(
            session,
            order=order,
            to=to,
            actor_user_id=viewer.user_id,
            reason=reason,
            providers=providers,
            own_staff=own_staff,
        )
        await session.commit()
        kick_relay(request)
    except DomainError as exc:
        await session.rollback()
        error = "reason_required" if exc.field == "reason" else exc.code
        status = exc.status
        store = await store_for(session, viewer, store_id)
    if not request.headers.get("hx-request"):
        if error:
            return error_page(request, status, code=error)
        return redirect(request, f"/merchant/stores/{store.id}/orders")
    return await _board(
        request, session, store, template="merchant/_order_board.html", status=status, error=error
    )


@router.get("/stores/{store_id}/orders/{order_id}/pick-list")
async def pick_list(
    request: Request, session: SessionDep, viewer: UserDep, store_id: IdPath, order_id: IdPath
) -> Response:
    """A printable list of what to take off the shelves for one order."""
    store = await store_for(session, viewer, store_id)
    card = await order_board.card_at(session, store=store, order_id=order_id)
    lines = await order_board.pick_lines(session, card.order.lines)
    return render(
        request,
        "merchant/pick_list.html",
        {"section": "orders", "store": store, "card": card, "lines": lines, **WORDS},
    )


@router.get("/stores/{store_id}/counter")
async def counter(
    request: Request, session: SessionDep, viewer: UserDep, store_id: IdPath
) -> Response:
    store = await store_for(session, viewer, store_id)
    return render(request, "merchant/counter.html", {"section": "counter", "store": store})


@router.post("/stores/{store_id}/counter")
async def redeem(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    store_id: IdPath,
    code: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Redeem what was typed or scanned and say what to hand over, or why not."""
    store = await store_for(session, viewer, store_id)
    result: dict[str, Any] = {"sent": code.strip()[:64]}
    status = 200
    try:
        done = await pickup_service.redeem_at_counter(
            session, store=store, text=code, actor_user_id=viewer.user_id
        )
        order = done.order
        result.update(
            display=codes.display(done.code.code),
            kind=done.code.kind.value,
            order=await orders_queries.order_view(session, order, for_staff=True)
            if order is not None
            else None,
        )
        await session.commit()
        kick_relay(request)
    except DomainError as exc:
        await session.rollback()  # the code stays unused when the hand-over is refused
        store = await store_for(session, viewer, store_id)
        status = exc.status
        normal = codes.normalize(code)
        result.update(
            error=exc.code,
            display=codes.display(normal) if normal else None,
            redeemed_at=order_board.local_stamp(
                exc.extra.get("redeemed_at"), await order_board.zone_of(session, store)
            ),
        )
    context = {"section": "counter", "store": store, "result": result, **WORDS}
    template = "merchant/_counter_result.html" if request.headers.get("hx-request") else None
    return render(request, template or "merchant/counter.html", context, status=status)
