"""Merchant console: money — settlement statements per day (with a CSV download) and refunds.

For the merchant's owners and managers of all its stores (``o2o.ledger.access``); the pages
read the same statements as ``GET /api/v1/merchants/{id}/settlements``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from babel.dates import format_date
from babel.numbers import format_percent
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from o2o.accounts.principal import Principal
from o2o.http.deps import IdPath, SessionDep, policy_of
from o2o.ledger import access, commission
from o2o.ledger.exceptions import InvalidPeriod
from o2o.ledger.queries import refunds as refund_queries
from o2o.ledger.queries import statements
from o2o.merchants import service as merchants_service
from o2o.merchants.models import Merchant
from o2o.web import deps
from o2o.web.deps import UserDep
from o2o.web.render import gettext, redirect, render
from o2o.web.vocabulary import N_

router = APIRouter(
    prefix="/merchant", include_in_schema=False, dependencies=[Depends(deps.check_csrf)]
)
# Why money went back, as the orders domain records it, in the words the pages translate.
REASONS = {
    "order not fulfilled": N_("Paid after the order had ended"),
    "order cancelled": N_("Order cancelled"),
    "cancelled by the shopper": N_("Cancelled by the customer"),
    "not_collected": N_("Not collected in time"),
}
PREFIXED = {"rejected:": N_("Rejected: %(why)s"), "returned:": N_("Returned: %(why)s")}


def reason_text(request: Request, memo: str) -> str:
    """A refund's reason in the visitor's language (free text after a known prefix stays)."""
    if memo in REASONS:
        return gettext(request, REASONS[memo])
    for prefix, message in PREFIXED.items():
        if memo.startswith(prefix):
            why = memo[len(prefix) :].strip()
            return gettext(request, message, why=why) if why else gettext(request, message, why="—")
    return memo


async def _readable(session: SessionDep, viewer: Principal) -> list[Merchant]:
    return [
        await merchants_service.get_merchant(session, merchant_id=g.merchant_id)
        for g in viewer.grants
        if access.may_read(viewer, g.merchant_id)
    ]


async def _pick(request: Request, session: SessionDep, viewer: Principal, page: str) -> Response:
    """One merchant: straight to its page; several: choose; none: 403."""
    merchants = await _readable(session, viewer)
    if len(merchants) == 1:
        return redirect(request, f"/merchant/{page}/{merchants[0].id}")
    return render(
        request,
        "merchant/money_pick.html",
        {"section": "money", "merchants": merchants, "page": page},
        status=200 if merchants else 403,
    )


@router.get("/settlements")
async def pick_settlements(request: Request, session: SessionDep, viewer: UserDep) -> Response:
    return await _pick(request, session, viewer, "settlements")


@router.get("/refunds")
async def pick_refunds(request: Request, session: SessionDep, viewer: UserDep) -> Response:
    return await _pick(request, session, viewer, "refunds")


async def _merchant(session: SessionDep, viewer: Principal, merchant_id: int) -> Merchant:
    merchant = await merchants_service.get_merchant(session, merchant_id=merchant_id)
    access.require_reader(viewer, merchant_id)
    return merchant


def _parse(text: str) -> date | None:
    return date.fromisoformat(text) if text.strip() else None


async def _period(
    session: SessionDep, merchant_id: int, start: str, end: str
) -> tuple[date, date, str | None]:
    """The period of the form; with a problem (a message key), the default period."""
    default = await statements.default_period(session, merchant_id=merchant_id)
    try:
        first, last = _parse(start), _parse(end)
        if first is None and last is None:
            return (*default, None)
        first, last = statements.fill_period(first, last)
        statements.check_period(first, last)
    except ValueError:
        return (*default, "date")
    except InvalidPeriod as exc:
        return (*default, "order" if exc.field == "to" else "long")
    return first, last, None


def _words(request: Request) -> dict[str, Any]:
    """What the money pages need to say dates and reasons in the visitor's language."""
    locale = deps.state(request).locale
    return {
        "section": "money",
        "weekday": lambda day: format_date(day, "EEEE", locale=locale),
        "reason": lambda memo: reason_text(request, memo),
    }


def rate_text(bps: int, locale: str) -> str:
    """A rate in basis points as the locale writes a percentage (``5%``, ``3.33%``)."""
    return str(format_percent(Decimal(bps) / 10_000, "#,##0.##%", locale=locale))


@router.get("/settlements/{merchant_id}")
async def settlements(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    merchant_id: IdPath,
    start: Annotated[str, Query(alias="from", max_length=10)] = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> Response:
    """The days of a period with what the merchant sold, refunded, paid and is owed."""
    merchant = await _merchant(session, viewer, merchant_id)
    first, last, problem = await _period(session, merchant_id, start, end)
    found = await statements.days(session, merchant_id=merchant_id, start=first, end=last)
    default_bps = policy_of(request).commission_bps_default
    bps = commission.effective_bps(merchant.commission_bps, default_bps)
    context: dict[str, Any] = {
        **_words(request),
        "merchant": merchant,
        "start": first,
        "end": last,
        "problem": problem,
        "days": found,
        "totals": statements.period_totals(found),
        "rate": rate_text(bps, deps.state(request).locale),
        "own_rate": merchant.commission_bps is not None,
        "zone": str(await statements.merchant_zone(session, merchant_id=merchant_id)),
    }
    return render(request, "merchant/settlements.html", context, status=422 if problem else 200)


@router.get("/settlements/{merchant_id}/{day}.csv")
async def statement_csv(
    session: SessionDep, viewer: UserDep, merchant_id: IdPath, day: date
) -> Response:
    """The day's statement as a CSV file (UTF-8 with a byte-order mark, for spreadsheets)."""
    await _merchant(session, viewer, merchant_id)
    name, body = statements.csv_file(
        await statements.statement(session, merchant_id=merchant_id, day=day)
    )
    return Response(
        body,
        media_type=statements.CSV_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/settlements/{merchant_id}/{day}")
async def statement(
    request: Request, session: SessionDep, viewer: UserDep, merchant_id: IdPath, day: date
) -> Response:
    """One day's statement: its totals and every sale and refund behind them."""
    merchant = await _merchant(session, viewer, merchant_id)
    found = await statements.statement(session, merchant_id=merchant_id, day=day)
    context = {**_words(request), "merchant": merchant, "statement": found}
    return render(request, "merchant/settlement_day.html", context)


@router.get("/refunds/{merchant_id}")
async def refunds(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    merchant_id: IdPath,
    start: Annotated[str, Query(alias="from", max_length=10)] = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> Response:
    """The merchant's refunds in a period: order, amount, what it cost the merchant, why."""
    merchant = await _merchant(session, viewer, merchant_id)
    first, last, problem = await _period(session, merchant_id, start, end)
    found = await refund_queries.refunds(session, merchant_id=merchant_id, start=first, end=last)
    context = {
        **_words(request),
        "merchant": merchant,
        "start": first,
        "end": last,
        "problem": problem,
        "refunds": found,
        "limit": refund_queries.MAX_REFUNDS,
    }
    return render(request, "merchant/refunds.html", context, status=422 if problem else 200)
