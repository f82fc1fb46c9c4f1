"""A merchant's refunds as the ledger recorded them: to whom for which order, how much, why,
when, and what each took back from the merchant (net of the commission given back).

Refunds of orders the merchant never sold (a payment that arrived after the order had
expired or sold out) are listed too, at no cost to the merchant.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.ledger import accounts
from o2o.ledger.models import Entry, Journal, JournalKind
from o2o.ledger.queries.statements import check_period, region_zones

MAX_REFUNDS = 500  # a page's worth; the API pages by period


@dataclass(frozen=True)
class RefundLine:
    journal_id: int
    refund_id: int | None
    order_id: int
    occurred_at: datetime
    business_date: date
    timezone: str
    currency: str
    amount: int  # given back to the shopper
    commission: int  # commission the platform gave back with it
    merchant_share: int  # taken back from the merchant's payable
    reason: str

    @property
    def sold(self) -> bool:
        """False for money that came for an order never sold (nothing taken from the
        merchant)."""
        return self.merchant_share > 0 or self.commission > 0

    @property
    def local_time(self) -> datetime:
        return self.occurred_at.astimezone(ZoneInfo(self.timezone))


async def refunds(
    session: AsyncSession, *, merchant_id: int, start: date, end: date, limit: int = MAX_REFUNDS
) -> list[RefundLine]:
    """The merchant's refunds whose day lies from ``start`` to ``end``, newest first."""
    check_period(start, end)
    newest = (
        select(Journal.id)
        .where(
            Journal.kind == JournalKind.REFUND,
            Journal.business_date.between(start, end),
            Journal.id.in_(select(Entry.journal_id).where(Entry.merchant_id == merchant_id)),
        )
        .order_by(Journal.id.desc())
        .limit(limit)
    )
    rows = (
        await session.execute(
            select(
                Journal.id,
                Journal.refund_id,
                Journal.occurred_at,
                Journal.business_date,
                Journal.memo,
                Journal.region_id,
                Entry.order_id,
                Entry.currency,
                Entry.account,
                Entry.amount,
            )
            .join(Journal, Journal.id == Entry.journal_id)
            .where(Entry.journal_id.in_(newest), Entry.merchant_id == merchant_id)
            .order_by(Journal.id.desc(), Entry.id)
        )
    ).all()
    zones = await region_zones(session, {row.region_id for row in rows})
    found: dict[int, RefundLine] = {}
    for jid, refund_id, at, day, memo, region_id, order_id, currency, account, amount in rows:
        line = found.get(jid) or RefundLine(
            journal_id=jid,
            refund_id=refund_id,
            order_id=order_id or 0,
            occurred_at=at,
            business_date=day,
            timezone=zones[region_id],
            currency=currency,
            amount=0,
            commission=0,
            merchant_share=0,
            reason=memo,
        )
        if accounts.is_clearing(account):
            line = replace(line, amount=line.amount - amount)
        elif account == accounts.PLATFORM_COMMISSION:
            line = replace(line, commission=line.commission + amount)
        elif accounts.is_payable(account):
            line = replace(line, merchant_share=line.merchant_share + amount)
        found[jid] = line
    return list(found.values())
