"""Refunds in two steps: decided in the use case's transaction, made at the provider after.

``request`` raises the payment's refunded total (a conditional update: pending refunds count
against what is left, so refunds together never exceed the amount paid), writes the refund
``pending`` with its request number and queues ``REFUND_TOPIC``, all in the caller's
transaction. No network call is made there: no row lock or write lock is held while a
provider answers, and a timeout cannot roll back a refund the provider may have made.

After commit the worker calls the provider with the refund's request number (Alipay's
``out_request_no``, WeChat Pay's ``out_refund_no``, the demo wallet's request number): a
repeat with the same number is the same refund at the provider, so a retry after a timeout
or a crash converges on one refund. States::

    pending -> succeeded        the provider made it (a repeat answers with the same refund)
    pending -> failed           the provider refused it; still owed, shown to operators
    failed  -> pending          an operator retries it (same request number)
    failed  -> succeeded        a late answer from an earlier try: the money did go
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.outbox import emit
from o2o.payments.exceptions import (
    PaymentNotSettled,
    RefundExceedsPaid,
    RefundNotFound,
    RefundNotRetryable,
)
from o2o.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from o2o.payments.numbers import DEFAULT_PREFIX, refund_number

REFUND_TOPIC = "payment.refund"
# Tries without an answer from the provider before the refund is shown as failed.
MAX_ATTEMPTS = 10

R = RefundStatus
MOVES: dict[RefundStatus, frozenset[RefundStatus]] = {
    R.PENDING: frozenset({R.SUCCEEDED, R.FAILED}),
    R.FAILED: frozenset({R.PENDING, R.SUCCEEDED}),
    R.SUCCEEDED: frozenset(),
}


def may_move(current: RefundStatus, to: RefundStatus) -> bool:
    """Whether a refund in ``current`` may become ``to``."""
    return to in MOVES[current]


def _from(to: RefundStatus) -> list[RefundStatus]:
    return [s for s, nexts in MOVES.items() if to in nexts]


async def request(
    session: AsyncSession,
    *,
    payment_id: int,
    amount: int,
    reason: str,
    reference: str,
    number_prefix: str = DEFAULT_PREFIX,
) -> Refund:
    """Decide a refund of ``amount``: counted at once against the payment, made later by the
    worker. The refund (``pending``), or ``RefundExceedsPaid`` / ``PaymentNotSettled``. Its
    request number starts with the installation's ``number_prefix``."""
    if amount <= 0:
        raise RefundExceedsPaid("A refund must be at least one minor unit.", field="amount")
    raised = (
        await session.execute(
            update(Payment)
            .where(
                Payment.id == payment_id,
                Payment.status == PaymentStatus.SUCCEEDED,
                Payment.refunded + amount <= Payment.amount,
            )
            .values(refunded=Payment.refunded + amount)
            .returning(Payment.id)
        )
    ).one_or_none()
    payment = await session.get(Payment, payment_id, populate_existing=True)
    if raised is None:
        if payment is None or payment.status != PaymentStatus.SUCCEEDED:
            raise PaymentNotSettled("Only a successful payment can be refunded.")
        left = payment.amount - payment.refunded
        raise RefundExceedsPaid(
            f"Only {left} minor units of this payment are left to refund.",
            field="amount",
            refundable=left,
        )
    row = Refund(
        payment_id=payment_id,
        request_no=refund_number(number_prefix),
        amount=amount,
        reason=reason[:200],
        reference=reference,
        status=R.PENDING,
        attempts=0,
        last_error="",
    )
    session.add(row)
    await session.flush()
    emit(session, REFUND_TOPIC, {"refund_id": row.id})
    return row


async def due(session: AsyncSession, *, refund_id: int) -> tuple[Refund, Payment] | None:
    """The refund and its payment if the refund still waits for the provider; else None."""
    row = await session.get(Refund, refund_id, populate_existing=True)
    if row is None or row.status != R.PENDING:
        return None
    payment = await session.get(Payment, row.payment_id)
    if payment is None:
        return None
    return row, payment


async def _move(session: AsyncSession, refund_id: int, to: RefundStatus, **values: object) -> bool:
    moved = (
        await session.execute(
            update(Refund)
            .where(Refund.id == refund_id, Refund.status.in_(_from(to)))
            .values(status=to, **values)
            .returning(Refund.id)
        )
    ).one_or_none()
    return moved is not None


async def succeed(
    session: AsyncSession, *, refund_id: int, provider_refund_no: str, now: datetime | None = None
) -> bool:
    """The provider made the refund; False if it was already recorded as made."""
    return await _move(
        session,
        refund_id,
        R.SUCCEEDED,
        provider_refund_no=provider_refund_no[:64],
        completed_at=now or utcnow(),
        last_error="",
    )


async def fail(
    session: AsyncSession, *, refund_id: int, error: str, now: datetime | None = None
) -> bool:
    """The provider refused the refund: it stays owed and counted, shown as failed."""
    return await _move(
        session, refund_id, R.FAILED, last_error=error[:300], completed_at=now or utcnow()
    )


async def note_attempt(session: AsyncSession, *, refund_id: int, error: str) -> RefundStatus:
    """A try that got no usable answer (timeout, 5xx, unverifiable): the refund stays pending
    for the next try with the same number, or is shown as failed after ``MAX_ATTEMPTS``."""
    await session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status == R.PENDING)
        .values(attempts=Refund.attempts + 1, last_error=error[:300])
    )
    row = await session.get(Refund, refund_id, populate_existing=True)
    if row is None:
        return R.FAILED
    if row.status == R.PENDING and row.attempts >= MAX_ATTEMPTS:
        await fail(session, refund_id=refund_id, error=f"no answer after {row.attempts} tries")
        return R.FAILED
    return row.status


async def retry(session: AsyncSession, *, refund_id: int) -> Refund:
    """Send a failed refund to the provider again (an operator's decision), under its own
    request number: the provider treats the same number as the same refund, so a retry can
    never refund twice. The move is a conditional update: of two concurrent retries one wins,
    the other is ``RefundNotRetryable``. The worker makes it after commit (``REFUND_TOPIC``)."""
    moved = await _move(session, refund_id, R.PENDING, attempts=0, completed_at=None)
    row = await session.get(Refund, refund_id, populate_existing=True)
    if row is None:
        raise RefundNotFound(f"There is no refund {refund_id}.")
    if not moved:
        raise RefundNotRetryable(
            f"Refund {refund_id} is {row.status.value}; only a failed one is retried.",
            refund_status=row.status.value,
        )
    emit(session, REFUND_TOPIC, {"refund_id": row.id})
    return row


async def with_status(
    session: AsyncSession, *, status: RefundStatus, limit: int = 100
) -> list[Refund]:
    """Refunds in ``status``, oldest first (pending and failed ones are what to watch)."""
    return list(
        await session.scalars(
            select(Refund).where(Refund.status == status).order_by(Refund.id).limit(limit)
        )
    )
