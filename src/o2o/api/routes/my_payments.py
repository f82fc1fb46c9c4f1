"""The caller's payments and their refunds, newest first (``o2o.orders.payment_history``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from o2o.api.deps import PrincipalDep, SessionDep
from o2o.core.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    decode_id_cursor,
    encode_cursor,
)
from o2o.orders import payment_history

router = APIRouter(tags=["orders"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


class PaidOrderRead(BaseModel):
    id: int
    total: int
    status: str


class MyRefundRead(BaseModel):
    id: int
    amount: int
    status: str = Field(description="succeeded when the money went back")
    reason: str
    created_at: datetime
    order_id: int | None


class MyPaymentRead(BaseModel):
    id: int
    provider: str
    amount: int = Field(description="Minor units")
    currency: str
    status: str = Field(description="pending (not paid yet) or succeeded")
    refunded: int = Field(description="Refunded so far, minor units")
    created_at: datetime
    paid_at: datetime | None
    orders: list[PaidOrderRead]
    refunds: list[MyRefundRead]


class MyPaymentPage(BaseModel):
    items: list[MyPaymentRead]
    next_cursor: str | None


@router.get("/me/payments", response_model=MyPaymentPage)
async def my_payments(
    session: SessionDep,
    principal: PrincipalDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> MyPaymentPage:
    """The caller's payments, newest first, each with the orders it paid and its refunds."""
    before = decode_id_cursor(cursor)
    rows = await payment_history.shopper_payments(
        session,
        shopper_id=principal.user_id,
        before_id=before,
        limit=limit,
    )
    page, more = rows[:limit], len(rows) > limit
    return MyPaymentPage(
        items=[
            MyPaymentRead(
                id=p.id,
                provider=p.provider,
                amount=p.amount,
                currency=p.currency,
                status=p.status,
                refunded=p.refunded,
                created_at=p.created_at,
                paid_at=p.paid_at,
                orders=[PaidOrderRead(id=o.id, total=o.total, status=o.status) for o in p.orders],
                refunds=[
                    MyRefundRead(
                        id=r.id,
                        amount=r.amount,
                        status=r.status,
                        reason=r.reason,
                        created_at=r.created_at,
                        order_id=r.order_id,
                    )
                    for r in p.refunds
                ],
            )
            for p in page
        ],
        next_cursor=encode_cursor([page[-1].id]) if more else None,
    )
