"""A store's side of orders: the live queue, moving orders on, and the counter."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from o2o.api.deps import IdPath, PrincipalDep, SessionDep, staff_store
from o2o.api.idempotency import IdempotencyKey, maybe_idempotent
from o2o.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_id_cursor, encode_cursor
from o2o.delivery import by_store
from o2o.http.deps import providers_of
from o2o.http.sse import channel_events
from o2o.orders import queries as orders_queries
from o2o.orders import service as orders_service
from o2o.orders.channels import store_channel
from o2o.orders.models import OrderStatus
from o2o.orders.schemas import OrderPage, OrderRead, TransitionIn
from o2o.pickup import service as pickup_service
from o2o.redemption import codes

router = APIRouter(tags=["store orders"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


class RedemptionIn(BaseModel):
    code: str = Field(min_length=1, max_length=64, description="As typed or scanned")


class RedemptionRead(BaseModel):
    code: str
    display: str
    kind: str
    redeemed_at: str
    order: OrderRead | None


@router.get("/stores/{store_id}/orders", response_model=OrderPage)
async def store_orders(
    session: SessionDep,
    principal: PrincipalDep,
    store_id: IdPath,
    status: Annotated[list[OrderStatus] | None, Query(max_length=12)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> OrderPage:
    """The store's orders, newest first; by default the live queue (not yet finished)."""
    store = await staff_store(session, principal, store_id)
    before = decode_id_cursor(cursor)
    rows = await orders_queries.store_orders(
        session,
        store_id=store.id,
        statuses=status,
        before_id=before,
        limit=limit,
    )
    page, more = rows[:limit], len(rows) > limit
    return OrderPage(
        items=await orders_queries.order_views(session, page, for_staff=True),
        next_cursor=encode_cursor([page[-1].id]) if more else None,
    )


@router.get(
    "/stores/{store_id}/orders/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def store_orders_stream(
    request: Request, session: SessionDep, principal: PrincipalDep, store_id: IdPath
) -> StreamingResponse:
    """``order`` events ``{order_id, status, from, …}`` the moment an order of the store is
    placed or changes."""
    store = await staff_store(session, principal, store_id)
    await session.close()
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


@router.get("/stores/{store_id}/orders/{order_id}", response_model=OrderRead)
async def store_order(
    session: SessionDep, principal: PrincipalDep, store_id: IdPath, order_id: IdPath
) -> OrderRead:
    store = await staff_store(session, principal, store_id)
    order = await orders_service.order_at_store(session, order_id=order_id, store_id=store.id)
    return await orders_queries.order_view(session, order, for_staff=True)


@router.post("/stores/{store_id}/orders/{order_id}/transitions", response_model=OrderRead)
async def transition_order(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    store_id: IdPath,
    order_id: IdPath,
    body: TransitionIn,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Accept, reject (with a reason: refunded and restocked), prepare, mark ready (the
    shopper is told), hand over to delivery, ship, deliver."""
    store = await staff_store(session, principal, store_id)

    async def action() -> tuple[int, object]:
        order = await orders_service.order_at_store(session, order_id=order_id, store_id=store.id)
        await by_store.transition(
            session,
            order=order,
            to=body.to,
            actor_user_id=principal.user_id,
            reason=body.reason,
            providers=providers_of(request),
            own_staff=body.own_staff,
        )
        view = await orders_queries.order_view(session, order, for_staff=True)
        return 200, view.model_dump(mode="json")

    return await maybe_idempotent(
        request, session, principal, idempotency_key, body.model_dump(mode="json"), action
    )


@router.post("/stores/{store_id}/redemptions", response_model=RedemptionRead)
async def redeem(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    store_id: IdPath,
    body: RedemptionIn,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Redeem a code shown at the counter (typed or scanned; dashes and case do not matter)
    and hand over what it stands for. 409 ``already_redeemed``, 404 ``unknown_code``, 403
    ``code_of_another_store``."""
    store = await staff_store(session, principal, store_id)

    async def action() -> tuple[int, object]:
        done = await pickup_service.redeem_at_counter(
            session, store=store, text=body.code, actor_user_id=principal.user_id
        )
        order = (
            await orders_queries.order_view(session, done.order, for_staff=True)
            if done.order is not None
            else None
        )
        out = RedemptionRead(
            code=done.code.code,
            display=codes.display(done.code.code),
            kind=done.code.kind.value,
            redeemed_at=done.code.redeemed_at.isoformat() if done.code.redeemed_at else "",
            order=order,
        )
        return 200, out.model_dump(mode="json")

    return await maybe_idempotent(
        request, session, principal, idempotency_key, body.model_dump(mode="json"), action
    )
