"""Payments: create a charge through a provider, settle it from a verified notification once,
refund never more than what was paid."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.payments.exceptions import (
    InvalidNotification,
    PaymentNotFound,
    PaymentNotSettled,
    RefundExceedsPaid,
    UnknownProvider,
)
from o2o.payments.models import (
    NotificationOutcome,
    Payment,
    PaymentNotification,
    PaymentStatus,
    Refund,
)
from o2o.payments.providers import Notice, PaymentProvider


class Providers:
    """The providers this platform accepts, by name (wired in ``bootstrap``)."""

    def __init__(self, *providers: PaymentProvider) -> None:
        self._by_name = {p.name: p for p in providers}

    def get(self, name: str) -> PaymentProvider:
        provider = self._by_name.get(name)
        if provider is None:
            known = ", ".join(sorted(self._by_name))
            raise UnknownProvider(
                f"Unknown payment provider {name!r}; use one of: {known}.", field="provider"
            )
        return provider

    @property
    def names(self) -> list[str]:
        return sorted(self._by_name)

    @property
    def offered(self) -> list[str]:
        """The providers in the order they are configured (the order pages offer them)."""
        return list(self._by_name)

    @property
    def default(self) -> str:
        """The provider offered first (the first one configured)."""
        return self.offered[0]


async def get_payment(session: AsyncSession, *, payment_id: int) -> Payment:
    payment = await session.get(Payment, payment_id)
    if payment is None:
        raise PaymentNotFound(f"There is no payment {payment_id}.")
    return payment


async def create_payment(
    session: AsyncSession,
    *,
    provider: PaymentProvider,
    reference: str,
    amount: int,
    currency: str,
    payer_user_id: int | None,
    expires_at: datetime,
) -> Payment:
    """A pending payment and the provider's charge for it (QR payload or redirect)."""
    payment = Payment(
        provider=provider.name,
        reference=reference,
        amount=amount,
        currency=currency,
        payer_user_id=payer_user_id,
        expires_at=expires_at,
        status=PaymentStatus.PENDING,
        refunded=0,
    )
    session.add(payment)
    await session.flush()
    charge = await provider.create(session, payment)
    payment.qr_payload = charge.redirect_url or charge.qr_payload
    payment.provider_trade_no = charge.provider_trade_no
    await session.flush()
    return payment


@dataclass(frozen=True)
class Settlement:
    """What a notification did: ``payment`` is set when it was verified and matched one."""

    outcome: NotificationOutcome
    reason: str
    payment: Payment | None


def _log(
    session: AsyncSession,
    provider: str,
    outcome: NotificationOutcome,
    reason: str,
    body: bytes,
    payment_id: int | None,
) -> None:
    session.add(
        PaymentNotification(
            provider=provider,
            payment_id=payment_id,
            outcome=outcome,
            reason=reason,
            body=body[:4000].decode("utf-8", "replace"),
        )
    )


async def settle(session: AsyncSession, *, provider: PaymentProvider, notice: Notice) -> Settlement:
    """Mark the payment succeeded if the notice matches it; at most once, whatever the order or
    number of notices. A payment already closed is still settled (the money did move): the
    caller refunds what it can no longer honour."""
    payment = await session.get(Payment, notice.payment_id)
    if payment is None or payment.provider != provider.name:
        return Settlement(NotificationOutcome.REJECTED, "unknown_payment", None)
    if not notice.paid:
        return Settlement(NotificationOutcome.DUPLICATE, "not_paid", payment)
    if notice.amount != payment.amount or notice.currency != payment.currency:
        return Settlement(NotificationOutcome.REJECTED, "amount_mismatch", None)
    won = (
        await session.execute(
            update(Payment)
            .where(
                Payment.id == payment.id,
                Payment.status.in_([PaymentStatus.PENDING, PaymentStatus.CLOSED]),
            )
            .values(
                status=PaymentStatus.SUCCEEDED,
                paid_at=utcnow(),
                provider_trade_no=notice.provider_trade_no,
            )
            .returning(Payment.id)
        )
    ).one_or_none()
    await session.refresh(payment)
    if won is None:
        return Settlement(NotificationOutcome.DUPLICATE, "already_settled", payment)
    return Settlement(NotificationOutcome.APPLIED, "", payment)


async def accept_notification(
    session: AsyncSession, *, provider: PaymentProvider, headers: Mapping[str, str], body: bytes
) -> Settlement:
    """Verify and apply a provider's notification; every one is logged with its outcome.

    A forged, stale, malformed or mismatched notification changes nothing but the log.
    """
    try:
        notice = provider.verify(headers, body)
    except InvalidNotification as exc:
        reason = str(exc.extra.get("reason", "invalid"))
        _log(session, provider.name, NotificationOutcome.REJECTED, reason, body, None)
        return Settlement(NotificationOutcome.REJECTED, reason, None)
    result = await settle(session, provider=provider, notice=notice)
    payment_id = result.payment.id if result.payment else None
    _log(session, provider.name, result.outcome, result.reason, body, payment_id)
    await session.flush()
    return result


async def reject_notification(
    session: AsyncSession, *, provider: PaymentProvider, reason: str, body: bytes = b""
) -> Settlement:
    """Log a notification refused before it could be read (too large to accept at all)."""
    _log(session, provider.name, NotificationOutcome.REJECTED, reason, body, None)
    await session.flush()
    return Settlement(NotificationOutcome.REJECTED, reason, None)


async def close_payment(
    session: AsyncSession, *, provider: PaymentProvider, payment: Payment
) -> bool:
    """Give up a pending payment (its orders are gone); False if it already succeeded."""
    closed = (
        await session.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.status == PaymentStatus.PENDING)
            .values(status=PaymentStatus.CLOSED, closed_at=utcnow())
            .returning(Payment.id)
        )
    ).one_or_none()
    if closed is not None:
        await provider.close(session, payment)
    await session.refresh(payment)
    return closed is not None


async def refund(
    session: AsyncSession,
    *,
    provider: PaymentProvider,
    payment_id: int,
    amount: int,
    reason: str,
    reference: str,
) -> Refund:
    """Give ``amount`` back. The running total is raised by a conditional update, so refunds
    together never exceed the amount paid, whatever runs at the same time."""
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
    payment = await get_payment(session, payment_id=payment_id)
    await session.refresh(payment)
    if raised is None:
        if payment.status != PaymentStatus.SUCCEEDED:
            raise PaymentNotSettled("Only a successful payment can be refunded.")
        left = payment.amount - payment.refunded
        raise RefundExceedsPaid(
            f"Only {left} minor units of this payment are left to refund.",
            field="amount",
            refundable=left,
        )
    row = Refund(
        payment_id=payment_id,
        request_no=secrets.token_hex(8),
        amount=amount,
        reason=reason[:200],
        reference=reference,
    )
    session.add(row)
    await session.flush()
    row.provider_refund_no = await provider.refund(session, payment, row)
    await session.flush()
    return row


async def refunds_of(session: AsyncSession, *, payment_id: int) -> list[Refund]:
    return list(
        await session.scalars(
            select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id)
        )
    )


async def pending_older_than(
    session: AsyncSession, *, before: datetime, limit: int = 100
) -> list[Payment]:
    """Pending payments created before ``before``: to query their provider."""
    return list(
        await session.scalars(
            select(Payment)
            .where(Payment.status == PaymentStatus.PENDING, Payment.created_at < before)
            .order_by(Payment.id)
            .limit(limit)
        )
    )
