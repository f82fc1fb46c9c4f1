"""The shopper's orders: checkout, quote, history, cancel, and paying."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from o2o.api.deps import IdPath, PrincipalDep, SessionDep
from o2o.api.idempotency import IdempotencyKey, idempotent, identify, maybe_idempotent
from o2o.catalog.labels import qr_svg
from o2o.core.idempotency import TTL
from o2o.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_id_cursor, encode_cursor
from o2o.delivery import ending as delivery_ending
from o2o.http.deps import app_settings, kick_relay, policy_of, providers_of
from o2o.orders import paying as orders_paying
from o2o.orders import placement, placement_pg, quotes
from o2o.orders import queries as orders_queries
from o2o.orders import service as orders_service
from o2o.orders.placement import Placed
from o2o.orders.schemas import (
    CancelIn,
    CheckoutCreate,
    OrderCreate,
    OrderPage,
    OrderRead,
    QuoteRead,
    QuoteRequest,
)
from o2o.payments.models import Payment
from o2o.redemption import service as redemption_service
from o2o.redemption.exceptions import UnknownCode
from o2o.redemption.models import CodeKind, CodeStatus

router = APIRouter(tags=["orders"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


class CheckoutRead(BaseModel):
    checkout_ref: str
    total: int
    currency: str
    orders: list[OrderRead]


class PaymentCreate(BaseModel):
    provider: str | None = Field(
        default=None,
        max_length=32,
        description="A provider this platform offers; its default if omitted",
    )


class PaymentRead(BaseModel):
    payment_id: int
    provider: str
    status: str
    amount: int
    currency: str
    qr_payload: str
    expires_at: str
    order_ids: list[int]


async def _after_commit_kick(request: Request) -> None:
    kick_relay(request)


@router.post("/orders", status_code=201, response_model=OrderRead)
async def create_order(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    body: OrderCreate,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Place an order at one store; its stock is reserved until it is paid (or, to try in
    store, for the store's hold time). Shipping without ``store_id`` is routed to the best
    source, splitting across stores if it must: the response is the first order and
    ``checkout_order_ids`` lists all of them (paid together)."""

    def render(placed: list[Placed]) -> object:
        return orders_queries.placed_views(placed)[0].model_dump(mode="json")

    payload = body.model_dump(mode="json")
    if placement_pg.applies(session, body):
        scope, key, digest = identify(
            request, principal=principal, key=idempotency_key, body=payload
        )
        answer = await placement_pg.place_once(
            session,
            shopper_id=principal.user_id,
            data=body,
            policy=policy_of(request),
            once=placement_pg.Once(scope, key, digest, TTL),
            render=render,
        )
        if answer is not None:
            kick_relay(request)
            return JSONResponse(answer, status_code=201)

    async def action() -> tuple[int, object]:
        placed = await placement.place_checkout(
            session, shopper_id=principal.user_id, requests=[body], policy=policy_of(request)
        )
        return 201, render(placed)

    return await idempotent(
        request,
        session,
        principal=principal,
        key=idempotency_key,
        body=payload,
        action=action,
        after_commit=lambda: _after_commit_kick(request),
    )


@router.post("/checkouts", status_code=201, response_model=CheckoutRead)
async def create_checkout(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    body: CheckoutCreate,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A cart spanning stores: one order per store, all or none, paid together."""

    async def action() -> tuple[int, object]:
        placed = await placement.place_checkout(
            session,
            shopper_id=principal.user_id,
            requests=body.orders,
            policy=policy_of(request),
        )
        orders = [p.order for p in placed]
        out = CheckoutRead(
            checkout_ref=orders[0].checkout_ref,
            total=sum(o.total for o in orders),
            currency=orders[0].currency,
            orders=orders_queries.placed_views(placed),
        )
        return 201, out.model_dump(mode="json")

    return await idempotent(
        request,
        session,
        principal=principal,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        action=action,
        after_commit=lambda: _after_commit_kick(request),
    )


@router.post("/orders/quote", response_model=QuoteRead)
async def quote_order(
    request: Request, session: SessionDep, principal: PrincipalDep, body: QuoteRequest
) -> QuoteRead:
    """Cost and timing of each fulfilment option for these lines at this store."""
    return await quotes.quote(
        session, shopper_id=principal.user_id, data=body, policy=policy_of(request)
    )


@router.get("/orders/{order_id}", response_model=OrderRead)
async def get_order(session: SessionDep, principal: PrincipalDep, order_id: IdPath) -> OrderRead:
    order = await orders_service.order_of_shopper(
        session, order_id=order_id, shopper_id=principal.user_id
    )
    return await orders_queries.order_view(session, order)


@router.get(
    "/orders/{order_id}/pickup-code.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def pickup_code_qr(
    session: SessionDep, principal: PrincipalDep, order_id: IdPath
) -> Response:
    """The pickup code as a QR image, for the counter's scanner."""
    order = await orders_service.order_of_shopper(
        session, order_id=order_id, shopper_id=principal.user_id
    )
    code = await redemption_service.code_for(session, subject=order.reference, kind=CodeKind.PICKUP)
    if code is None or code.status == CodeStatus.VOID:
        raise UnknownCode("This order has no pickup code (yet).")
    return Response(
        qr_svg(code.code, scale=8),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, no-store"},
    )


@router.get("/me/orders", response_model=OrderPage)
async def my_orders(
    session: SessionDep,
    principal: PrincipalDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> OrderPage:
    """The caller's orders, newest first."""
    before = decode_id_cursor(cursor)
    rows = await orders_queries.shopper_orders(
        session,
        shopper_id=principal.user_id,
        before_id=before,
        limit=limit,
    )
    page, more = rows[:limit], len(rows) > limit
    return OrderPage(
        items=await orders_queries.order_views(session, page),
        next_cursor=encode_cursor([page[-1].id]) if more else None,
    )


@router.post("/orders/{order_id}/cancel", response_model=OrderRead)
async def cancel_order(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    order_id: IdPath,
    body: CancelIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Cancel before the store has started on it: stock released, payment refunded."""
    reason = body.reason if body else ""

    async def action() -> tuple[int, object]:
        order = await orders_service.order_of_shopper(
            session, order_id=order_id, shopper_id=principal.user_id
        )
        await delivery_ending.cancel(
            session,
            order=order,
            actor_user_id=principal.user_id,
            reason=reason,
            providers=providers_of(request),
        )
        return 200, (await orders_queries.order_view(session, order)).model_dump(mode="json")

    return await maybe_idempotent(
        request, session, principal, idempotency_key, {"reason": reason}, action
    )


def payment_read(payment: Payment, order_ids: list[int]) -> PaymentRead:
    return PaymentRead(
        payment_id=payment.id,
        provider=payment.provider,
        status=payment.status.value,
        amount=payment.amount,
        currency=payment.currency,
        qr_payload=payment.qr_payload,
        expires_at=payment.expires_at.isoformat(),
        order_ids=order_ids,
    )


@router.post("/orders/{order_id}/payments", status_code=201, response_model=PaymentRead)
async def pay_order(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    order_id: IdPath,
    body: PaymentCreate,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Start paying the order (with every unpaid order of its checkout): show
    ``qr_payload`` as a QR for the wallet to scan."""

    async def action() -> tuple[int, object]:
        payment = await orders_paying.start_payment(
            session,
            order_id=order_id,
            shopper_id=principal.user_id,
            provider_name=body.provider or app_settings(request).payment_providers[0],
            providers=providers_of(request),
        )
        order = await orders_service.get_order(session, order_id=order_id)
        ids = [
            o.id
            for o in await orders_service.checkout_of(session, checkout_ref=order.checkout_ref)
            if o.payment_id == payment.id
        ]
        return 201, payment_read(payment, ids).model_dump(mode="json")

    return await maybe_idempotent(
        request, session, principal, idempotency_key, body.model_dump(mode="json"), action
    )
