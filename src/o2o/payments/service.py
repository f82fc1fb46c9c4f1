"""Payments: create a charge through a provider, settle it from a verified notification once,
refund never more than what was paid."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.errors import DomainError
from o2o.core.outbox import emit
from o2o.payments import refunds
from o2o.payments.exceptions import (
    InvalidNotification,
    PaymentNotFound,
    ProviderAnswerInvalid,
    ProviderRefused,
    ProviderUnavailable,
    RefundNotFound,
    UnknownProvider,
)
from o2o.payments.models import (
    OPEN,
    NotificationOutcome,
    Payment,
    PaymentNotification,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from o2o.payments.numbers import DEFAULT_PREFIX
from o2o.payments.providers import Charge, Notice, PaymentProvider

log = logging.getLogger("o2o.payments")
# Close a given-up payment's trade at its provider (after commit, retried by the relay).
CLOSE_TOPIC = "payment.close"
# Longer than any provider call (10 s timeouts): a payment ``creating`` for longer was left
# by a request that is gone, and may be given up.
CREATING_FOR = timedelta(seconds=60)


class Providers:
    """The providers this platform accepts, by name (wired in ``bootstrap``)."""

    def __init__(self, *providers: PaymentProvider, trade_no_prefix: str = DEFAULT_PREFIX) -> None:
        self._by_name = {p.name: p for p in providers}
        # What the numbers sent to providers start with (O2O_TRADE_NO_PREFIX).
        self.trade_no_prefix = trade_no_prefix

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


async def intend_payment(
    session: AsyncSession,
    *,
    provider: PaymentProvider,
    reference: str,
    amount: int,
    currency: str,
    payer_user_id: int | None,
    expires_at: datetime,
) -> Payment:
    """A payment about to be asked of ``provider``: ``creating``, its number (its id) fixed.
    The provider is not called here: the caller commits first, so no lock is held while the
    provider answers, then calls ``charge``."""
    payment = Payment(
        provider=provider.name,
        reference=reference,
        amount=amount,
        currency=currency,
        payer_user_id=payer_user_id,
        expires_at=expires_at,
        status=PaymentStatus.CREATING,
        refunded=0,
    )
    session.add(payment)
    await session.flush()
    return payment


def is_stale(payment: Payment, *, now: datetime) -> bool:
    """A payment left ``creating`` longer than any provider call lasts: the request that was
    asking the provider is gone (a crash between the two transactions)."""
    return payment.status == PaymentStatus.CREATING and payment.created_at < now - CREATING_FOR


async def charge(session: AsyncSession, *, provider: PaymentProvider, payment: Payment) -> Charge:
    """Ask the provider for the payment's charge (QR payload or redirect). Called with no
    transaction holding locks: only the demo wallet, which lives in our database, writes."""
    return await provider.create(session, payment)


async def record_charge(session: AsyncSession, *, payment: Payment, charge: Charge) -> bool:
    """``creating`` -> ``pending`` with the provider's QR; False if the payment stopped being
    ``creating`` meanwhile (its orders were cancelled while the provider answered)."""
    recorded = (
        await session.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.status == PaymentStatus.CREATING)
            .values(
                status=PaymentStatus.PENDING,
                qr_payload=charge.redirect_url or charge.qr_payload,
                provider_trade_no=charge.provider_trade_no,
            )
            .returning(Payment.id)
        )
    ).one_or_none()
    await session.refresh(payment)
    return recorded is not None


async def fail_charge(session: AsyncSession, *, payment: Payment, error: DomainError) -> None:
    """The provider refused the charge or gave no usable answer: ``creating`` -> ``failed``.
    Without an answer the provider may have opened the trade: its close is queued, as for a
    cancelled payment, so no code the shopper never saw stays payable."""
    failed = (
        await session.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.status == PaymentStatus.CREATING)
            .values(status=PaymentStatus.FAILED, closed_at=utcnow())
            .returning(Payment.id)
        )
    ).one_or_none()
    log.warning("payment %s failed at %s: %s", payment.id, payment.provider, error.detail)
    if failed is not None and isinstance(error, (ProviderUnavailable, ProviderAnswerInvalid)):
        emit(session, CLOSE_TOPIC, {"payment_id": payment.id})
    await session.refresh(payment)


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
                # The money moved, whatever we thought of the payment: record it (the
                # orders refund what they no longer honour).
                Payment.status.in_(
                    [
                        PaymentStatus.CREATING,
                        PaymentStatus.PENDING,
                        PaymentStatus.CLOSED,
                        PaymentStatus.FAILED,
                    ]
                ),
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


async def close_payment(session: AsyncSession, *, payment: Payment) -> bool:
    """Give up a payment still open (its orders are gone, or replaced by another); False if it
    succeeded or ended already. The provider's trade is closed after commit by the worker
    (``CLOSE_TOPIC``, ``close_at_provider``), retried while the provider cannot be reached:
    the use case never waits on the provider."""
    closed = (
        await session.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.status.in_(OPEN))
            .values(status=PaymentStatus.CLOSED, closed_at=utcnow())
            .returning(Payment.id)
        )
    ).one_or_none()
    if closed is not None:
        emit(session, CLOSE_TOPIC, {"payment_id": payment.id})
    await session.refresh(payment)
    return closed is not None


async def close_at_provider(
    session: AsyncSession, *, providers: Providers, payment_id: int
) -> bool:
    """Close a given-up payment's trade at its provider (the worker, after commit). A definite
    answer (closed, never opened, paid meanwhile: the notification settles that) ends it;
    ``ProviderUnavailable`` and ``ProviderAnswerInvalid`` propagate so the message is tried
    again later. False when there was nothing to close."""
    payment = await session.get(Payment, payment_id, populate_existing=True)
    if payment is None or payment.status not in (PaymentStatus.CLOSED, PaymentStatus.FAILED):
        return False
    try:
        await providers.get(payment.provider).close(session, payment)
    except ProviderRefused as exc:
        log.warning("%s did not close payment %s: %s", payment.provider, payment_id, exc.detail)
        return False
    return True


async def refund(
    session: AsyncSession,
    *,
    payment_id: int,
    amount: int,
    reason: str,
    reference: str,
    number_prefix: str = DEFAULT_PREFIX,
) -> Refund:
    """Decide a refund of ``amount`` (``refunds.request``): counted against the payment at
    once, so refunds together never exceed the amount paid, and made at the provider by the
    worker after commit, under a number starting with ``number_prefix``."""
    return await refunds.request(
        session,
        payment_id=payment_id,
        amount=amount,
        reason=reason,
        reference=reference,
        number_prefix=number_prefix,
    )


@dataclass(frozen=True)
class RefundAttempt:
    """Where a refund stands after the worker asked the provider; ``error`` says why it is
    not made (yet)."""

    status: RefundStatus
    error: str = ""


async def carry_out_refund(
    session: AsyncSession, *, providers: Providers, refund_id: int
) -> RefundAttempt:
    """Ask the provider for a pending refund, with its request number, and record the answer.

    Made: succeeded. A definite refusal (a signed failure such as insufficient balance or a
    closed trade, the demo wallet's refusal): failed at once, to be retried by an operator.
    An answer that may not be final (timeout, network, 5xx, the provider's system error, an
    unverifiable answer): the refund is queried first (``query_refund``), since it may have
    been made all the same: made is succeeded, reported failed is failed; not there (or no
    answer to the query either) leaves it pending, the attempt counted, for the caller to
    commit and try again later with the same number (the provider makes a repeated number
    once). Nothing here is locked while the provider answers: the refund and its payment are
    only read before the calls."""
    found = await refunds.due(session, refund_id=refund_id)
    if found is None:
        row = await session.get(Refund, refund_id)
        return RefundAttempt(row.status if row else RefundStatus.FAILED, "not pending")
    row, payment = found
    provider = providers.get(payment.provider)
    try:
        number = await provider.refund(session, payment, row)
    except (ProviderUnavailable, ProviderAnswerInvalid) as exc:
        error = f"{exc.code}: {exc.detail}"
        try:
            made = await provider.query_refund(session, payment, row)
        except ProviderRefused as refused:
            error = f"{refused.code}: {refused.detail}"
            await refunds.fail(session, refund_id=row.id, error=error)
            return RefundAttempt(RefundStatus.FAILED, error)
        except DomainError as unknown:
            made, error = None, f"{error}; query: {unknown.code}: {unknown.detail}"
        if made is not None:
            await refunds.succeed(session, refund_id=row.id, provider_refund_no=made)
            return RefundAttempt(RefundStatus.SUCCEEDED)
        status = await refunds.note_attempt(session, refund_id=row.id, error=error)
        return RefundAttempt(status, error)
    except DomainError as exc:
        error = f"{exc.code}: {exc.detail}"
        await refunds.fail(session, refund_id=row.id, error=error)
        return RefundAttempt(RefundStatus.FAILED, error)
    await refunds.succeed(session, refund_id=row.id, provider_refund_no=number)
    return RefundAttempt(RefundStatus.SUCCEEDED)


async def get_refund(session: AsyncSession, *, refund_id: int) -> Refund:
    row = await session.get(Refund, refund_id, populate_existing=True)
    if row is None:
        raise RefundNotFound(f"There is no refund {refund_id}.")
    return row


async def retry_refund(session: AsyncSession, *, refund_id: int) -> Refund:
    """An operator retries a failed refund (``refunds.retry``): pending again, same number."""
    return await refunds.retry(session, refund_id=refund_id)


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
