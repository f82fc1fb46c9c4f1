"""Daily reconciliation: every capture and refund in our books for one provider and one day,
against the lines of the provider's bill for that day.

The day is the provider's statement day: a China Standard Time day (UTC+8, midnight to
midnight in Beijing) for Alipay and WeChat Pay, whose bills are cut that way; a UTC day for
the demo wallet. Our side is the ledger (capture and refund journals that moved money on
the provider's clearing account within the day) plus any succeeded payment or refund of the
provider recorded within the day that the ledger lacks. Orders, above both payments and the
ledger, is where they meet (as for ``o2o ledger check``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.ledger import accounts
from o2o.ledger.models import Entry, Journal, JournalKind
from o2o.orders.exceptions import ProviderNotEnabled
from o2o.orders.reconcile_compare import SUCCEEDED, Booked, Key, Report, compare, line_key
from o2o.payments.models import Payment, PaymentStatus, Refund
from o2o.payments.providers import BillLine, PaymentProvider
from o2o.payments.service import Providers

CHINA = ZoneInfo("Asia/Shanghai")
# The zone each provider cuts its bills in; a provider not named here cuts them in UTC.
STATEMENT_ZONES: dict[str, tzinfo] = {"alipay": CHINA, "wechat": CHINA}
# Every provider the platform can be configured with (``O2O_PAYMENT_PROVIDERS``).
KNOWN_PROVIDERS = ("demo", "alipay", "wechat")


def provider_named(providers: Providers, name: str) -> PaymentProvider:
    """The enabled provider ``name``; a known provider not enabled here is its own error."""
    if name in KNOWN_PROVIDERS and name not in providers.names:
        raise ProviderNotEnabled(
            f"Payment provider {name!r} is not enabled here (O2O_PAYMENT_PROVIDERS); "
            f"enabled: {', '.join(providers.names)}.",
            field="provider",
        )
    return providers.get(name)


def window(provider: str, day: date) -> tuple[tzinfo, datetime, datetime]:
    """The provider's statement zone and ``day`` in UTC as ``start <= t < end``."""
    zone = STATEMENT_ZONES.get(provider, UTC)
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return zone, start, end


def refund_status(refund: Refund) -> str:
    """A refund's status as stored; a refund without one (money went back at once) succeeded."""
    status = getattr(refund, "status", None)
    return str(status) if status else SUCCEEDED


async def bill_of(
    provider: PaymentProvider, session: AsyncSession, start: datetime, end: datetime
) -> list[BillLine]:
    """The provider's lines within ``[start, end)``: its ``bill`` per UTC day the span touches."""
    lines: list[BillLine] = []
    day = start.date()
    while datetime.combine(day, time.min, tzinfo=UTC) < end:
        lines += [ln for ln in await provider.bill(session, day) if start <= ln.at < end]
        day += timedelta(days=1)
    return sorted(lines, key=lambda ln: ln.at)


async def _ledger(
    session: AsyncSession, provider: str, start: datetime, end: datetime
) -> list[tuple[JournalKind, int | None, int | None, datetime, str, int]]:
    """(kind, payment id, refund id, time, currency, money on clearing) per journal of the
    day. ``business_date`` brackets the scan (it is within a day of the UTC time)."""
    rows = await session.execute(
        select(
            Journal.kind,
            Journal.payment_id,
            Journal.refund_id,
            Journal.occurred_at,
            Journal.currency,
            func.sum(Entry.amount),
        )
        .join(Entry, Entry.journal_id == Journal.id)
        .where(
            Entry.account == accounts.provider_clearing(provider),
            Journal.business_date.between(
                start.date() - timedelta(days=1), end.date() + timedelta(days=1)
            ),
            Journal.occurred_at >= start,
            Journal.occurred_at < end,
        )
        .group_by(
            Journal.id,
            Journal.kind,
            Journal.payment_id,
            Journal.refund_id,
            Journal.occurred_at,
            Journal.currency,
        )
        .order_by(Journal.id)
    )
    return [(k, p, r, at, cur, int(total or 0)) for k, p, r, at, cur, total in rows.all()]


async def books(
    session: AsyncSession, provider: str, start: datetime, end: datetime
) -> list[Booked]:
    """Our payments and refunds of ``provider`` within ``[start, end)``."""
    found: list[Booked] = []
    journals = await _ledger(session, provider, start, end)
    captured = {
        p: (at, cur, amount)
        for k, p, _, at, cur, amount in journals
        if k == JournalKind.CAPTURE and p
    }
    refunded = {
        r: (at, cur, -amount)
        for k, _, r, at, cur, amount in journals
        if k == JournalKind.REFUND and r
    }
    payments = {
        p.id: p
        for p in await session.scalars(
            select(Payment).where(
                Payment.provider == provider,
                or_(
                    Payment.id.in_(list(captured)),
                    and_(
                        Payment.status == PaymentStatus.SUCCEEDED,
                        Payment.paid_at >= start,
                        Payment.paid_at < end,
                    ),
                ),
            )
        )
    }
    for payment_id, payment in sorted(payments.items()):
        at, currency, amount = captured.get(
            payment_id, (payment.paid_at or payment.created_at, payment.currency, payment.amount)
        )
        found.append(
            Booked(
                "payment",
                payment_id,
                None,
                amount,
                currency,
                at,
                str(payment.status),
                in_ledger=payment_id in captured,
            )
        )
    rows = await session.execute(
        select(Refund, Payment.currency)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(
            Payment.provider == provider,
            or_(
                Refund.id.in_(list(refunded)),
                and_(Refund.created_at >= start, Refund.created_at < end),
            ),
        )
        .order_by(Refund.id)
    )
    for refund, payment_currency in rows.all():
        at, currency, amount = refunded.get(
            refund.id, (refund.created_at, payment_currency, refund.amount)
        )
        found.append(
            Booked(
                "refund",
                refund.payment_id,
                refund.request_no,
                amount,
                currency,
                at,
                refund_status(refund),
                in_ledger=refund.id in refunded,
            )
        )
    return found


async def elsewhere(session: AsyncSession, provider: str, keys: Iterable[Key]) -> list[Booked]:
    """What we hold, on any day and in any state, for bill lines not found within the day."""
    wanted = list(keys)
    found: list[Booked] = []
    payment_ids = [pid for kind, pid, _ in wanted if kind == "payment"]
    if payment_ids:
        rows = await session.execute(
            select(Payment, Journal.occurred_at)
            .join(
                Journal,
                (Journal.payment_id == Payment.id) & (Journal.kind == JournalKind.CAPTURE),
                isouter=True,
            )
            .where(Payment.id.in_(payment_ids), Payment.provider == provider)
        )
        for p, booked_at in rows.all():
            at = booked_at or p.paid_at or p.created_at
            found.append(
                Booked(
                    "payment", p.id, None, p.amount, p.currency, at, str(p.status), in_window=False
                )
            )
    refund_keys = [(pid, no) for kind, pid, no in wanted if kind == "refund" and no]
    if refund_keys:
        refund_rows = await session.execute(
            select(Refund, Payment.currency, Journal.occurred_at)
            .join(Payment, Payment.id == Refund.payment_id)
            .join(Journal, Journal.refund_id == Refund.id, isouter=True)
            .where(
                tuple_(Refund.payment_id, Refund.request_no).in_(refund_keys),
                Payment.provider == provider,
            )
        )
        for r, currency, booked_at in refund_rows.all():
            found.append(
                Booked(
                    "refund",
                    r.payment_id,
                    r.request_no,
                    r.amount,
                    currency,
                    booked_at or r.created_at,
                    refund_status(r),
                    in_window=False,
                )
            )
    return found


async def reconcile(session: AsyncSession, *, provider: PaymentProvider, day: date) -> Report:
    """Our books against ``provider``'s bill for ``day`` (its statement day, see the module):
    each difference, the movements that match, and both sides' totals. Reads only."""
    zone, start, end = window(provider.name, day)
    bill = await bill_of(provider, session, start, end)
    ours = await books(session, provider.name, start, end)
    held = {b.key for b in ours}
    missing = {line_key(ln) for ln in bill} - held
    ours += await elsewhere(session, provider.name, sorted(missing, key=str))
    report = Report(provider.name, day, str(zone), start, end)
    return compare(report, ours, bill)
