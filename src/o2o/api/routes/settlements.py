"""A merchant's money: settlement statements per day (JSON or CSV) and its refunds.

Read by the merchant's owners and managers of all its stores (``o2o.ledger.access``). Days
are local dates in the region of the orders; amounts are integer minor units.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from o2o.api.deps import IdPath, PrincipalDep, SessionDep
from o2o.http.deps import policy_of
from o2o.ledger import access, commission
from o2o.ledger.queries import refunds as refund_queries
from o2o.ledger.queries import statements
from o2o.ledger.schemas import (
    RefundRead,
    SettlementDayRead,
    SettlementsRead,
    StatementLineRead,
    StatementRead,
    TotalsRead,
)
from o2o.merchants import service as merchants_service
from o2o.merchants.models import Merchant

router = APIRouter(tags=["settlements"])
FromQuery = Annotated[
    date | None, Query(alias="from", description="First day (default: 30 days ago)")
]
ToQuery = Annotated[date | None, Query(alias="to", description="Last day (default: today)")]
_CSV_RESPONSE: dict[int | str, dict[str, object]] = {200: {"content": {"text/csv": {}}}}


async def _period(
    session: SessionDep, merchant_id: int, start: date | None, end: date | None
) -> tuple[date, date]:
    """The period asked for; a missing end is filled in 30 days from the other one, and
    without either, the last 30 days up to the merchant's today."""
    if start is None and end is None:
        return await statements.default_period(session, merchant_id=merchant_id)
    start, end = statements.fill_period(start, end)
    statements.check_period(start, end)
    return start, end


async def _reader(session: SessionDep, principal: PrincipalDep, merchant_id: int) -> Merchant:
    """The merchant, once the caller may read its money."""
    merchant = await merchants_service.get_merchant(session, merchant_id=merchant_id)
    access.require_reader(principal, merchant_id)
    return merchant


@router.get("/merchants/{merchant_id}/settlements", response_model=SettlementsRead)
async def list_settlements(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    merchant_id: IdPath,
    start: FromQuery = None,
    end: ToQuery = None,
) -> SettlementsRead:
    """Per day of the period (at most 366 days), what the merchant sold, refunded, paid in
    commission and is owed. Days without any money moving are left out."""
    merchant = await _reader(session, principal, merchant_id)
    start, end = await _period(session, merchant_id, start, end)
    found = await statements.days(session, merchant_id=merchant_id, start=start, end=end)
    rate = commission.effective_bps(
        merchant.commission_bps, policy_of(request).commission_bps_default
    )
    return SettlementsRead(
        merchant_id=merchant_id,
        period_from=start,
        period_to=end,
        commission_bps=rate,
        days=[SettlementDayRead(date=d.day, **TotalsRead.of(d.totals).model_dump()) for d in found],
        totals=[TotalsRead.of(t) for t in statements.period_totals(found)],
    )


def _csv(statement: statements.Statement) -> Response:
    name, body = statements.csv_file(statement)
    return Response(
        body,
        media_type=statements.CSV_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _read(s: statements.Statement) -> StatementRead:
    return StatementRead(
        merchant_id=s.merchant_id,
        date=s.day,
        totals=[TotalsRead.of(t) for t in s.totals],
        lines=[StatementLineRead.of(line) for line in s.lines],
    )


@router.get(
    "/merchants/{merchant_id}/settlements/{day}.csv",
    response_class=Response,
    responses=_CSV_RESPONSE,
)
async def statement_csv(
    session: SessionDep, principal: PrincipalDep, merchant_id: IdPath, day: date
) -> Response:
    """The day's statement as CSV (also ``…/{day}?format=csv``)."""
    await _reader(session, principal, merchant_id)
    return _csv(await statements.statement(session, merchant_id=merchant_id, day=day))


@router.get(
    "/merchants/{merchant_id}/settlements/{day}",
    response_model=StatementRead,
    responses=_CSV_RESPONSE,
)
async def statement(
    session: SessionDep,
    principal: PrincipalDep,
    merchant_id: IdPath,
    day: date,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> StatementRead | Response:
    """One day's statement: totals per currency, and every sale and refund behind them.
    A day without any is an empty statement (zero totals are left out)."""
    await _reader(session, principal, merchant_id)
    found = await statements.statement(session, merchant_id=merchant_id, day=day)
    return _csv(found) if output == "csv" else _read(found)


class RefundsRead(BaseModel):
    merchant_id: int
    refunds: list[RefundRead]


@router.get("/merchants/{merchant_id}/refunds", response_model=RefundsRead)
async def list_refunds(
    session: SessionDep,
    principal: PrincipalDep,
    merchant_id: IdPath,
    start: FromQuery = None,
    end: ToQuery = None,
) -> RefundsRead:
    """The merchant's refunds in the period, newest first (at most 500)."""
    await _reader(session, principal, merchant_id)
    start, end = await _period(session, merchant_id, start, end)
    found = await refund_queries.refunds(session, merchant_id=merchant_id, start=start, end=end)
    return RefundsRead(merchant_id=merchant_id, refunds=[RefundRead.of(r) for r in found])
