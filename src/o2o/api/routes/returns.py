"""The returns desk: find an order a shopper brings back, take items back for a refund or
exchange them for another variant, at any store of the order's merchant."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from o2o.api.deps import IdPath, PrincipalDep, SessionDep, staff_store
from o2o.api.idempotency import IdempotencyKey, idempotent
from o2o.api.routes.stock import publish_levels
from o2o.http.deps import kick_relay, policy_of, providers_of
from o2o.inventory import service as inventory_service
from o2o.orders import queries as orders_queries
from o2o.orders import returns, returns_queries
from o2o.orders.exceptions import ExchangeTargetInvalid
from o2o.orders.returns_models import OrderReturn, OrderReturnLine
from o2o.orders.schemas import OrderRead

router = APIRouter(tags=["returns"])
_ID = Field(ge=1, le=2**63 - 1)
# Wide enough for any typo a client makes; the service says what the real bounds are.
_ANY_QTY = Field(ge=-(2**31), le=2**31 - 1)


class ReturnLineIn(BaseModel):
    line_id: int = _ID
    qty: int = _ANY_QTY


class ExchangeToIn(BaseModel):
    line_id: int = _ID
    variant_id: int = _ID


class ReturnCreate(BaseModel):
    order_id: int = _ID
    lines: list[ReturnLineIn] = Field(max_length=returns.MAX_RETURN_LINES)
    reason: str = Field(max_length=300)
    kind: Literal["return", "exchange"]
    exchange_to: list[ExchangeToIn] | None = Field(
        default=None,
        max_length=returns.MAX_RETURN_LINES,
        description="For an exchange: the variant (same product, same price) for each line",
    )
    restock: bool = Field(
        default=True, description="False when the units are not fit to sell again"
    )


class ReturnLineRead(BaseModel):
    line_id: int
    variant_id: int
    unit_price: int
    qty: int
    replacement_variant_id: int | None
    replacement_line_id: int | None


class ReturnRecordRead(BaseModel):
    id: int
    order_id: int
    store_id: int = Field(description="The receiving store")
    kind: Literal["return", "exchange"]
    reason: str
    restocked: bool
    refund_amount: int
    refund_id: int | None
    actor_user_id: int | None
    created_at: datetime
    lines: list[ReturnLineRead]


class ReturnRead(ReturnRecordRead):
    order: OrderRead


class LookupHit(BaseModel):
    order: OrderRead
    returnable: bool = Field(description="Handed over, paid online, and within the window")
    returnable_until: datetime | None
    returns: list[ReturnRecordRead]


class LookupPage(BaseModel):
    items: list[LookupHit]


def _record_read(record: OrderReturn, lines: list[OrderReturnLine]) -> ReturnRecordRead:
    return ReturnRecordRead(
        id=record.id,
        order_id=record.order_id,
        store_id=record.store_id,
        kind=record.kind.value,
        reason=record.reason,
        restocked=record.restocked,
        refund_amount=record.refund_amount,
        refund_id=record.refund_id,
        actor_user_id=record.actor_user_id,
        created_at=record.created_at,
        lines=[
            ReturnLineRead(
                line_id=line.order_line_id,
                variant_id=line.variant_id,
                unit_price=line.unit_price,
                qty=line.qty,
                replacement_variant_id=line.replacement_variant_id,
                replacement_line_id=line.replacement_line_id,
            )
            for line in lines
        ],
    )


@router.get("/stores/{store_id}/orders/lookup", response_model=LookupPage)
async def lookup_order(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    store_id: IdPath,
    q: Annotated[str, Query(min_length=1, max_length=64, description="Order id or pickup code")],
) -> LookupPage:
    """Find an order for the returns desk by its id or its pickup code, among the orders of
    every store of this store's merchant (goods may come back anywhere)."""
    store = await staff_store(session, principal, store_id)
    policy = policy_of(request)
    hits = []
    for order in await returns_queries.find_for_desk(session, merchant_id=store.merchant_id, q=q):
        until = returns.returnable_until(order, policy)
        hits.append(
            LookupHit(
                order=await orders_queries.order_view(session, order, for_staff=True),
                returnable=await returns.is_returnable(session, order, policy=policy),
                returnable_until=until,
                returns=[
                    _record_read(record, lines)
                    for record, lines in await returns_queries.returns_of(
                        session, order_id=order.id
                    )
                ],
            )
        )
    return LookupPage(items=hits)


@router.post("/stores/{store_id}/returns", status_code=201, response_model=ReturnRead)
async def take_back(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    store_id: IdPath,
    body: ReturnCreate,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Take items of an order back at this store (any store of the order's merchant): a
    ``return`` refunds their share of what was paid to the original payment; an ``exchange``
    hands out another variant of the same product at the same price from this store's stock.
    The units go back on this store's shelf unless ``restock`` is false. Requires an
    ``Idempotency-Key``.

    A returned unit refunds its price less its share of the order's discount (shares rounded
    so that all refunds together never exceed the total); the delivery or shipping fee comes
    back with the last unit. Returns are taken within the return window (30 days by default)
    of the hand-over (collected or delivered), for orders paid online.

    Codes: 409 ``return_not_allowed``, ``return_window_closed``,
    ``return_exceeds_quantity``, ``exchange_price_differs``, ``insufficient_stock``; 403
    ``store_of_another_merchant``; 422 ``invalid_return_lines``, ``return_reason_required``,
    ``exchange_target_invalid``; 404 ``order_not_found``, ``variant_not_found``."""
    store = await staff_store(session, principal, store_id)
    lines = [(line.line_id, line.qty) for line in body.lines]
    moved: set[int] = set()

    async def action() -> tuple[int, object]:
        if body.kind == "exchange":
            done = await returns.exchange_items(
                session,
                receiving_store=store,
                order_id=body.order_id,
                lines=lines,
                exchange_to=[(t.line_id, t.variant_id) for t in body.exchange_to or []],
                reason=body.reason,
                actor_user_id=principal.user_id,
                restock=body.restock,
                policy=policy_of(request),
            )
        else:
            if body.exchange_to:
                raise ExchangeTargetInvalid(
                    "exchange_to is only for an exchange (kind: exchange).", field="exchange_to"
                )
            done = await returns.return_items(
                session,
                receiving_store=store,
                order_id=body.order_id,
                lines=lines,
                reason=body.reason,
                actor_user_id=principal.user_id,
                providers=providers_of(request),
                restock=body.restock,
                policy=policy_of(request),
            )
        for row in done.lines:
            moved.update({row.variant_id, row.replacement_variant_id or row.variant_id})
        view = await orders_queries.order_view(session, done.order, for_staff=True)
        record = _record_read(done.record, done.lines)
        out = ReturnRead(**record.model_dump(), order=view)
        return 201, out.model_dump(mode="json")

    async def after_commit() -> None:
        kick_relay(request)
        levels = []
        for variant_id in sorted(moved):
            level = await inventory_service.get_level(
                session, store_id=store.id, variant_id=variant_id
            )
            if level is not None:
                await session.refresh(level)
                levels.append((store.id, variant_id, level.on_hand, level.available))
        await session.commit()
        await publish_levels(request, levels)

    return await idempotent(
        request,
        session,
        principal=principal,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        action=action,
        after_commit=after_commit,
    )
