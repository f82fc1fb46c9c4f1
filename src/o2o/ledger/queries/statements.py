"""Settlement statements: per merchant and day, what its sales brought, what refunds took
back, the commission on both, and what the platform owes it; with the lines behind them.

A day is the ``business_date`` of the journals: the local date, in the timezone of the
orders' region, when the money moved. Every figure is read from the merchant's two
accounts (``merchant_payable:<id>`` and its entries on ``platform_commission``), so the net
payable of a statement is, to the minor unit, minus the sum of the merchant's payable
entries that day.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from o2o.core.clock import utcnow
from o2o.ledger import accounts
from o2o.ledger.exceptions import InvalidPeriod
from o2o.ledger.models import Entry, Journal, JournalKind
from o2o.merchants import service as merchants_service
from o2o.regions import service as regions_service

MAX_DAYS = 366  # one request covers at most a year of days
UTC_ZONE = "UTC"


@dataclass(frozen=True)
class Totals:
    """One day's (or period's) figures in one currency, all positive minor units."""

    currency: str
    orders: int = 0  # orders sold
    gross_sales: int = 0  # what shoppers paid for them
    refunds: int = 0  # what went back to shoppers
    commission: int = 0  # charged on the sales
    commission_reversed: int = 0  # given back with the refunds

    @property
    def net_payable(self) -> int:
        """What the platform owes the merchant for the day."""
        return self.gross_sales - self.commission - (self.refunds - self.commission_reversed)


@dataclass(frozen=True)
class DaySummary:
    day: date
    totals: Totals


@dataclass(frozen=True)
class Line:
    """A sale (one order paid) or a refund, as it counts for the merchant."""

    kind: str  # "sale" or "refund"
    journal_id: int
    order_id: int
    occurred_at: datetime
    timezone: str
    currency: str
    amount: int  # paid by the shopper (sale) or given back (refund)
    commission: int  # charged (sale) or given back (refund)
    refund_id: int | None = None
    memo: str = ""

    @property
    def net(self) -> int:
        """Credited to the merchant (sale) or taken back from it (refund)."""
        return self.amount - self.commission

    @property
    def local_time(self) -> datetime:
        return self.occurred_at.astimezone(ZoneInfo(self.timezone))


@dataclass(frozen=True)
class Statement:
    merchant_id: int
    day: date
    lines: list[Line]
    totals: list[Totals] = field(default_factory=list)


def check_period(start: date, end: date) -> None:
    if end < start:
        raise InvalidPeriod("The period ends before it starts; swap from and to.", field="to")
    if (end - start).days >= MAX_DAYS:
        raise InvalidPeriod(
            f"A period is at most {MAX_DAYS} days; ask for a shorter one.",
            field="from",
            max_days=MAX_DAYS,
        )


def fill_period(start: date | None, end: date | None, *, days: int = 30) -> tuple[date, date]:
    """A period from what was given: the missing end ``days`` days from the other one (the
    calendar's limits allowing). Both missing: the caller's default applies, not this."""
    span = timedelta(days=days - 1)
    if start is None and end is not None:
        start = end - span if end - date.min >= span else date.min
    if end is None and start is not None:
        end = start + span if date.max - start >= span else date.max
    if start is None or end is None:
        raise InvalidPeriod("Give the first day (from), the last day (to), or both.")
    return start, end


def _mine(merchant_id: int) -> ColumnElement[bool]:
    return (Entry.merchant_id == merchant_id) & Entry.account.in_(
        [accounts.merchant_payable(merchant_id), accounts.PLATFORM_COMMISSION]
    )


async def days(
    session: AsyncSession, *, merchant_id: int, start: date, end: date
) -> list[DaySummary]:
    """Each day from ``start`` to ``end`` (inclusive) on which the merchant's money moved,
    newest first, one summary per currency."""
    check_period(start, end)
    on_commission = case((Entry.account == accounts.PLATFORM_COMMISSION, Entry.amount), else_=0)
    rows = (
        await session.execute(
            select(
                Journal.business_date,
                Entry.currency,
                Journal.kind,
                func.sum(Entry.amount),
                func.sum(on_commission),
                func.count(func.distinct(Entry.order_id)),
            )
            .join(Journal, Journal.id == Entry.journal_id)
            .where(_mine(merchant_id), Journal.business_date.between(start, end))
            .group_by(Journal.business_date, Entry.currency, Journal.kind)
        )
    ).all()
    found: dict[tuple[date, str], Totals] = {}
    for day, currency, kind, merchant_side, fee, orders in rows:
        t = found.get((day, currency)) or Totals(currency)
        if kind == JournalKind.CAPTURE:
            t = replace(
                t, orders=int(orders), gross_sales=-int(merchant_side), commission=-int(fee)
            )
        else:
            t = replace(t, refunds=int(merchant_side), commission_reversed=int(fee))
        found[(day, currency)] = t
    return [DaySummary(d, t) for (d, _c), t in sorted(found.items(), reverse=True)]


async def statement(session: AsyncSession, *, merchant_id: int, day: date) -> Statement:
    """The day's statement: its lines in the order the money moved, and totals per
    currency (empty on a day without any)."""
    rows = (
        await session.execute(
            select(
                Journal.id,
                Journal.kind,
                Journal.occurred_at,
                Journal.refund_id,
                Journal.memo,
                Journal.region_id,
                Entry.order_id,
                Entry.currency,
                Entry.account,
                Entry.amount,
            )
            .join(Journal, Journal.id == Entry.journal_id)
            .where(_mine(merchant_id), Journal.business_date == day)
            .order_by(Journal.occurred_at, Journal.id, Entry.order_id)
        )
    ).all()
    zones = await region_zones(session, {row.region_id for row in rows})
    lines: dict[tuple[int, int], Line] = {}
    for jid, kind, at, refund_id, memo, region_id, order_id, currency, account, entry in rows:
        if order_id is None:  # the merchant's entries always name their order
            continue
        sale = kind == JournalKind.CAPTURE
        # a sale credits the merchant's accounts, a refund debits them: both count positive
        amount = -entry if sale else entry
        line = lines.get((jid, order_id)) or Line(
            kind="sale" if sale else "refund",
            journal_id=jid,
            order_id=order_id,
            occurred_at=at,
            timezone=zones[region_id],
            currency=currency,
            amount=0,
            commission=0,
            refund_id=refund_id,
            memo=memo,
        )
        fee = amount if account == accounts.PLATFORM_COMMISSION else 0
        lines[(jid, order_id)] = replace(
            line, amount=line.amount + amount, commission=line.commission + fee
        )
    found = list(lines.values())
    return Statement(merchant_id, day, found, totals_of(found))


def totals_of(lines: list[Line]) -> list[Totals]:
    """The lines added up, per currency."""
    out: list[Totals] = []
    for currency in sorted({line.currency for line in lines}):
        mine = [line for line in lines if line.currency == currency]
        sales = [line for line in mine if line.kind == "sale"]
        refunds = [line for line in mine if line.kind == "refund"]
        out.append(
            Totals(
                currency,
                len({line.order_id for line in sales}),
                sum(line.amount for line in sales),
                sum(line.amount for line in refunds),
                sum(line.commission for line in sales),
                sum(line.commission for line in refunds),
            )
        )
    return out


def period_totals(summaries: list[DaySummary]) -> list[Totals]:
    """Days added up, per currency."""
    out: dict[str, Totals] = {}
    for s in summaries:
        t = out.get(s.totals.currency) or Totals(s.totals.currency)
        out[t.currency] = Totals(
            t.currency,
            t.orders + s.totals.orders,
            t.gross_sales + s.totals.gross_sales,
            t.refunds + s.totals.refunds,
            t.commission + s.totals.commission,
            t.commission_reversed + s.totals.commission_reversed,
        )
    return [out[c] for c in sorted(out)]


async def region_zones(session: AsyncSession, region_ids: set[int | None]) -> dict[int | None, str]:
    """The timezone of each region (UTC for none): where journals' times are local."""
    zones: dict[int | None, str] = {None: UTC_ZONE}
    for region_id in region_ids:
        if region_id is not None:
            region = await regions_service.get_region(session, region_id=region_id)
            zones[region_id] = region.timezone
    return zones


async def merchant_zone(session: AsyncSession, *, merchant_id: int) -> ZoneInfo:
    """The timezone of the region of the merchant's first store (UTC without stores): where
    "today" is for its statements."""
    stores = await merchants_service.list_stores(
        session, merchant_id=merchant_id, limit=1, include_inactive=True
    )
    if not stores:
        return ZoneInfo(UTC_ZONE)
    region = await regions_service.get_region(session, region_id=stores[0].region_id)
    return ZoneInfo(region.timezone)


async def default_period(
    session: AsyncSession, *, merchant_id: int, days_back: int = 30
) -> tuple[date, date]:
    """The last ``days_back`` days up to the merchant's today (what the pages show first)."""
    today = utcnow().astimezone(await merchant_zone(session, merchant_id=merchant_id)).date()
    return today - timedelta(days=days_back - 1), today


def major(minor: int, currency: str) -> str:
    """Minor units as an exact decimal in major units (``19900`` CNY -> ``199.00``)."""
    digits = get_currency_precision(currency)
    return f"{Decimal(minor).scaleb(-digits):.{digits}f}"


CSV_COLUMNS = (
    "date",
    "kind",
    "time",
    "order_id",
    "refund_id",
    "currency",
    "amount",
    "commission",
    "net",
    "note",
)


def statement_csv(s: Statement) -> str:
    """The statement as CSV: one row per line, then one ``total`` row per currency (amount:
    sales − refunds; commission: charged − given back; net: the net payable). Amounts are
    exact decimals in major units; times are local, with their offset."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in s.lines:
        sign = 1 if line.kind == "sale" else -1
        writer.writerow(
            [
                s.day.isoformat(),
                line.kind,
                line.local_time.isoformat(timespec="seconds"),
                line.order_id,
                line.refund_id or "",
                line.currency,
                major(sign * line.amount, line.currency),
                major(sign * line.commission, line.currency),
                major(sign * line.net, line.currency),
                _safe(line.memo),
            ]
        )
    for t in s.totals:
        writer.writerow(
            [
                s.day.isoformat(),
                "total",
                "",
                "",
                "",
                t.currency,
                major(t.gross_sales - t.refunds, t.currency),
                major(t.commission - t.commission_reversed, t.currency),
                major(t.net_payable, t.currency),
                f"orders: {t.orders}",
            ]
        )
    return out.getvalue()


CSV_MEDIA = "text/csv; charset=utf-8"


def csv_file(s: Statement) -> tuple[str, bytes]:
    """The statement's CSV download: its file name, and its bytes in UTF-8 with a byte-order
    mark (so that spreadsheet programs read Chinese notes as UTF-8)."""
    name = f"settlement-{s.merchant_id}-{s.day.isoformat()}.csv"
    return name, ("\ufeff" + statement_csv(s)).encode()


def _safe(text: str) -> str:
    """A note as a spreadsheet shows it, never as a formula (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
