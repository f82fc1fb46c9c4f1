"""A shopper's payments and refunds, newest first: what the "Payments" page and
``GET /api/v1/me/payments`` show.

A payment is the shopper's when it pays (or is to pay) orders of theirs; the orders' index
on the shopper finds them. Payments given up before any money moved (``closed``: the
shopper switched provider, or the order ended unpaid) are left out. Refunds are read by
their stored fields; a refund without a status of its own went back at once (succeeded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.orders.models import Order
from o2o.payments.models import Payment, PaymentStatus, Refund

SHOWN = (PaymentStatus.PENDING, PaymentStatus.SUCCEEDED)


@dataclass(frozen=True)
class PaidOrder:
    id: int
    total: int
    status: str
    region_id: int


@dataclass(frozen=True)
class RefundItem:
    id: int
    amount: int
    status: str
    reason: str
    created_at: datetime
    order_id: int | None


@dataclass
class PaymentItem:
    id: int
    provider: str
    amount: int
    currency: str
    status: str
    refunded: int
    created_at: datetime
    paid_at: datetime | None
    orders: list[PaidOrder] = field(default_factory=list)
    refunds: list[RefundItem] = field(default_factory=list)


def refund_status(refund: Refund) -> str:
    status = getattr(refund, "status", None)
    return str(status) if status else "succeeded"


def _order_id(reference: str) -> int | None:
    kind, _, number = reference.partition(":")
    return int(number) if kind == "order" and number.isdigit() else None


async def shopper_payments(
    session: AsyncSession, *, shopper_id: int, before_id: int | None, limit: int
) -> list[PaymentItem]:
    """The shopper's payments (id below ``before_id``), newest first, each with the orders
    it paid and its refunds (oldest first); ``limit + 1`` fetched to tell if there are more."""
    mine = select(Order.payment_id).where(
        Order.shopper_id == shopper_id, Order.payment_id.is_not(None)
    )
    query = select(Payment).where(Payment.id.in_(mine), Payment.status.in_(SHOWN))
    if before_id is not None:
        query = query.where(Payment.id < before_id)
    payments = list(await session.scalars(query.order_by(Payment.id.desc()).limit(limit + 1)))
    items = {
        p.id: PaymentItem(
            p.id,
            p.provider,
            p.amount,
            p.currency,
            str(p.status),
            p.refunded,
            p.created_at,
            p.paid_at,
        )
        for p in payments
    }
    if not items:
        return []
    orders = await session.scalars(
        select(Order)
        .where(Order.payment_id.in_(list(items)), Order.shopper_id == shopper_id)
        .order_by(Order.id)
    )
    for o in orders:
        if o.payment_id is not None:
            items[o.payment_id].orders.append(PaidOrder(o.id, o.total, str(o.status), o.region_id))
    refunds = await session.scalars(
        select(Refund).where(Refund.payment_id.in_(list(items))).order_by(Refund.id)
    )
    for r in refunds:
        items[r.payment_id].refunds.append(
            RefundItem(
                r.id, r.amount, refund_status(r), r.reason, r.created_at, _order_id(r.reference)
            )
        )
    return [items[p.id] for p in payments]
