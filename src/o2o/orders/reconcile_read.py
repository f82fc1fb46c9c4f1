"""A reconciliation report as the API and ``o2o ledger reconcile --json`` give it, and as CSV.

Amounts are integers in minor units in JSON; exact decimals in major units in CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from pydantic import BaseModel, Field

from o2o.ledger.queries.statements import major
from o2o.orders.reconcile_compare import DifferenceKind, Report, Totals


class DifferenceRead(BaseModel):
    kind: DifferenceKind
    movement: str = Field(description="payment or refund")
    payment_id: int
    request_no: str | None = Field(description="The refund's request number (refunds)")
    ours: int | None = Field(description="Amount in our books; null when not there")
    theirs: int | None = Field(description="Amount on the provider's bill; null when not there")
    currency: str
    ours_status: str | None
    provider_trade_no: str | None
    detail: str


class SideTotalsRead(BaseModel):
    currency: str
    payments: int
    payments_amount: int
    refunds: int
    refunds_amount: int
    net: int


class ReconciliationRead(BaseModel):
    provider: str
    date: date
    timezone: str = Field(description="The zone the provider's statement day is cut in")
    start: datetime = Field(description="The day's first instant, UTC")
    end: datetime = Field(description="The next day's first instant, UTC (excluded)")
    reconciled: bool
    matched: int
    differences: list[DifferenceRead]
    ours: list[SideTotalsRead] = Field(description="Our books' totals, per currency")
    theirs: list[SideTotalsRead] = Field(description="The bill's totals, per currency")


def _sides(totals: dict[str, Totals]) -> list[SideTotalsRead]:
    return [
        SideTotalsRead(
            currency=t.currency,
            payments=t.payments,
            payments_amount=t.payments_amount,
            refunds=t.refunds,
            refunds_amount=t.refunds_amount,
            net=t.net,
        )
        for t in totals.values()
    ]


def to_read(report: Report) -> ReconciliationRead:
    return ReconciliationRead(
        provider=report.provider,
        date=report.day,
        timezone=report.timezone,
        start=report.start,
        end=report.end,
        reconciled=report.reconciled,
        matched=report.matched,
        differences=[
            DifferenceRead(
                kind=d.kind,
                movement=d.movement,
                payment_id=d.payment_id,
                request_no=d.request_no,
                ours=d.ours,
                theirs=d.theirs,
                currency=d.currency,
                ours_status=d.ours_status,
                provider_trade_no=d.provider_trade_no,
                detail=d.detail,
            )
            for d in report.differences
        ],
        ours=_sides(report.ours),
        theirs=_sides(report.theirs),
    )


CSV_COLUMNS = (
    "date",
    "provider",
    "kind",
    "movement",
    "payment_id",
    "request_no",
    "ours",
    "theirs",
    "currency",
    "ours_status",
    "provider_trade_no",
    "detail",
)


def report_csv(report: Report) -> str:
    """One row per difference, amounts in major units (empty when a side lacks it)."""

    def amount(value: int | None, currency: str) -> str:
        return "" if value is None else major(value, currency)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for d in report.differences:
        writer.writerow(
            [
                report.day.isoformat(),
                report.provider,
                d.kind.value,
                d.movement,
                d.payment_id,
                d.request_no or "",
                amount(d.ours, d.currency),
                amount(d.theirs, d.currency),
                d.currency,
                d.ours_status or "",
                d.provider_trade_no or "",
                d.detail,
            ]
        )
    return out.getvalue()
