"""Posting to the ledger: one balanced journal per money event, written once.

The orders domain calls ``record_capture`` when a payment has been applied to its orders and
``record_refund`` for every refund, in the same transaction as the change they record. This
module knows no orders or payments tables: callers pass the figures (``OrderShare``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.ledger import accounts, commission
from o2o.ledger.exceptions import UnbalancedJournal
from o2o.ledger.models import Entry, Journal, JournalKind
from o2o.merchants import service as merchants_service
from o2o.regions import service as regions_service


@dataclass(frozen=True)
class Line:
    """One entry to post: debit when ``amount`` > 0, credit when < 0."""

    account: str
    amount: int
    merchant_id: int | None = None
    order_id: int | None = None


@dataclass(frozen=True)
class OrderShare:
    """An order's part of a payment, as the ledger needs it."""

    order_id: int
    merchant_id: int
    region_id: int
    total: int


async def business_date(session: AsyncSession, *, region_id: int | None, at: datetime) -> date:
    """The local date of ``at`` in the region (UTC without one): the statement's day."""
    if region_id is None:
        return at.astimezone(UTC).date()
    region = await regions_service.get_region(session, region_id=region_id)
    return at.astimezone(ZoneInfo(region.timezone)).date()


async def post(
    session: AsyncSession,
    *,
    kind: JournalKind,
    reference: str,
    currency: str,
    occurred_at: datetime,
    lines: Sequence[Line],
    region_id: int | None = None,
    payment_id: int | None = None,
    refund_id: int | None = None,
    memo: str = "",
) -> int | None:
    """Write a journal and its entries if they add up to zero; the journal's id, or None if
    a journal with this ``reference`` exists already (a retried posting changes nothing).

    Zero lines are left out (a merchant without commission has no commission entry). The
    insert of the journal is ``ON CONFLICT DO NOTHING`` on the unique reference, so two
    transactions posting the same event at once write it once: the second waits for the
    first and then finds it there."""
    kept = [line for line in lines if line.amount != 0]
    if sum(line.amount for line in kept) != 0 or len(kept) < 2:
        detail = ", ".join(f"{line.account} {line.amount:+d}" for line in lines)
        raise UnbalancedJournal(f"journal {reference} does not balance: {detail}")
    day = await business_date(session, region_id=region_id, at=occurred_at)
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    journal_id = (
        await session.execute(
            upsert(Journal)
            .values(
                kind=kind,
                reference=reference,
                currency=currency,
                occurred_at=occurred_at,
                business_date=day,
                region_id=region_id,
                payment_id=payment_id,
                refund_id=refund_id,
                memo=memo[:200],
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["reference"])
            .returning(Journal.id)
        )
    ).scalar_one_or_none()
    if journal_id is None:
        return None
    await session.execute(
        insert(Entry),
        [
            {
                "journal_id": journal_id,
                "account": line.account,
                "merchant_id": line.merchant_id,
                "order_id": line.order_id,
                "amount": line.amount,
                "currency": currency,
            }
            for line in kept
        ],
    )
    return journal_id


def capture_reference(payment_id: int) -> str:
    return f"capture:payment:{payment_id}"


def refund_reference(refund_id: int) -> str:
    return f"refund:{refund_id}"


async def record_capture(
    session: AsyncSession,
    *,
    payment_id: int,
    provider: str,
    amount: int,
    currency: str,
    occurred_at: datetime,
    sold: Sequence[OrderShare],
    unhonoured: Sequence[OrderShare],
    default_bps: int,
) -> int | None:
    """A payment of ``amount`` arrived at ``provider``: the money is in clearing, owed to the
    merchants of the ``sold`` orders (net of commission, at each merchant's rate) and to the
    shoppers of the ``unhonoured`` ones (refunded at once by the caller). What no order
    claims goes to ``unallocated_receipts``. Once per payment."""
    clearing = accounts.provider_clearing(provider)
    lines: list[Line] = []
    rates: dict[int, int] = {}
    for share in sold:
        if share.merchant_id not in rates:
            merchant = await merchants_service.get_merchant(session, merchant_id=share.merchant_id)
            rates[share.merchant_id] = commission.effective_bps(
                merchant.commission_bps, default_bps
            )
        charged = commission.charge(share.total, rates[share.merchant_id])
        m, o = share.merchant_id, share.order_id
        lines += [
            Line(clearing, share.total, m, o),
            Line(accounts.merchant_payable(m), -(share.total - charged), m, o),
            Line(accounts.PLATFORM_COMMISSION, -charged, m, o),
        ]
    for share in unhonoured:
        m, o = share.merchant_id, share.order_id
        lines += [Line(clearing, share.total, m, o), Line(accounts.REFUNDS_DUE, -share.total, m, o)]
    claimed = sum(s.total for s in (*sold, *unhonoured))
    if amount != claimed:
        lines += [
            Line(clearing, amount - claimed),
            Line(accounts.UNALLOCATED_RECEIPTS, claimed - amount),
        ]
    shares = (*sold, *unhonoured)
    return await post(
        session,
        kind=JournalKind.CAPTURE,
        reference=capture_reference(payment_id),
        currency=currency,
        occurred_at=occurred_at,
        lines=lines,
        region_id=shares[0].region_id if shares else None,
        payment_id=payment_id,
    )


@dataclass(frozen=True)
class OrderMoney:
    """What the ledger holds for one order so far."""

    sold: int = 0  # gross sale credited to the merchant and commission
    commission: int = 0  # commission charged on it
    refunded: int = 0  # money refunded (clearing credited)
    reversed: int = 0  # commission given back


async def order_money(session: AsyncSession, *, order_id: int) -> OrderMoney:
    rows = (
        await session.execute(
            select(Journal.kind, Entry.account, func.sum(Entry.amount))
            .join(Journal, Journal.id == Entry.journal_id)
            .where(Entry.order_id == order_id)
            .group_by(Journal.kind, Entry.account)
        )
    ).all()
    sold = fee = refunded = given_back = 0
    for kind, account, total in rows:
        amount = int(total or 0)
        on_merchant = accounts.is_payable(account) or account == accounts.PLATFORM_COMMISSION
        if kind == JournalKind.CAPTURE and on_merchant:
            sold -= amount
            fee -= amount if account == accounts.PLATFORM_COMMISSION else 0
        elif kind == JournalKind.REFUND:
            refunded -= amount if accounts.is_clearing(account) else 0
            given_back += amount if account == accounts.PLATFORM_COMMISSION else 0
    return OrderMoney(sold, fee, refunded, given_back)


async def record_refund(
    session: AsyncSession,
    *,
    refund_id: int,
    order: OrderShare,
    provider: str,
    amount: int,
    currency: str,
    occurred_at: datetime,
    memo: str = "",
) -> int | None:
    """``amount`` of ``order`` went back to the shopper through ``provider``. For a sale,
    the merchant's payable and the commission give back their proportional shares
    (``commission`` module); for an order never sold, it settles ``refunds_due``. The
    shares are computed from what the ledger already holds for the order, which the caller
    has locked (its refunded total was raised by a conditional update on the order's row)."""
    held = await order_money(session, order_id=order.order_id)
    m, o = order.merchant_id, order.order_id
    if held.sold > 0:
        back = commission.reversal(
            commission=held.commission,
            total=held.sold,
            refunded_before=held.refunded,
            reversed_before=held.reversed,
            amount=amount,
        )
        lines = [
            Line(accounts.merchant_payable(m), amount - back, m, o),
            Line(accounts.PLATFORM_COMMISSION, back, m, o),
        ]
    else:
        lines = [Line(accounts.REFUNDS_DUE, amount, m, o)]
    lines.append(Line(accounts.provider_clearing(provider), -amount, m, o))
    return await post(
        session,
        kind=JournalKind.REFUND,
        reference=refund_reference(refund_id),
        currency=currency,
        occurred_at=occurred_at,
        lines=lines,
        region_id=order.region_id,
        refund_id=refund_id,
        memo=memo,
    )


async def record_unallocated_refund(
    session: AsyncSession,
    *,
    refund_id: int,
    provider: str,
    amount: int,
    currency: str,
    occurred_at: datetime,
    memo: str = "",
) -> int | None:
    """``amount`` a payment brought that no order claims (``unallocated_receipts``) went
    back to the payer through ``provider``."""
    return await post(
        session,
        kind=JournalKind.REFUND,
        reference=refund_reference(refund_id),
        currency=currency,
        occurred_at=occurred_at,
        lines=[
            Line(accounts.UNALLOCATED_RECEIPTS, amount),
            Line(accounts.provider_clearing(provider), -amount),
        ],
        region_id=None,
        refund_id=refund_id,
        memo=memo,
    )
