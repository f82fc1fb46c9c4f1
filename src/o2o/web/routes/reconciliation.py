"""Admin console: the daily reconciliation of a payment provider, as ``GET
/api/v1/admin/reconciliation`` and ``o2o ledger reconcile`` give it (platform admins only).

The report is made when the form is sent (it downloads the provider's bill), not on the
first visit; the day offered is yesterday in the provider's statement zone, the last whole
day it has a bill for."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from o2o.accounts.exceptions import NotAllowed
from o2o.core.clock import utcnow
from o2o.core.errors import DomainError
from o2o.http.deps import SessionDep, providers_of
from o2o.orders import reconciliation
from o2o.orders.reconcile_compare import DifferenceKind
from o2o.web import vocabulary
from o2o.web.deps import UserDep
from o2o.web.render import render
from o2o.web.vocabulary import N_

router = APIRouter(prefix="/admin", include_in_schema=False)
# Each kind of difference in the words the page translates, with what to look at.
KINDS = {
    DifferenceKind.MISSING_AT_PROVIDER: N_("Missing at the provider"),
    DifferenceKind.MISSING_IN_BOOKS: N_("Missing in our books"),
    DifferenceKind.AMOUNT: N_("Amount differs"),
    DifferenceKind.CURRENCY: N_("Currency differs"),
    DifferenceKind.STATUS: N_("Status differs"),
    DifferenceKind.OTHER_DAY: N_("Booked on another day"),
}


@router.get("/reconciliation")
async def page(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    provider: Annotated[str, Query(max_length=32)] = "",
    day: Annotated[str, Query(alias="date", max_length=10)] = "",
) -> Response:
    """The form, and once sent the day's differences, matches and totals."""
    if not viewer.is_platform_admin:
        raise NotAllowed("Only platform administrators can reconcile payments.")
    providers = providers_of(request)
    chosen = provider or providers.default
    zone, _start, _end = reconciliation.window(chosen, utcnow().date())
    yesterday = utcnow().astimezone(zone).date() - timedelta(days=1)
    context: dict[str, Any] = {
        "section": "reconciliation",
        "providers": providers.offered,
        "provider_names": vocabulary.PROVIDERS,
        "kinds": KINDS,
        "chosen": chosen,
        "day": day or yesterday.isoformat(),
        "report": None,
        "problem": None,
    }
    if not provider and not day:
        return render(request, "admin/reconciliation.html", context)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        context["problem"] = "date"
        return render(request, "admin/reconciliation.html", context, status=422)
    try:
        found = reconciliation.provider_named(providers, chosen)
        context["report"] = await reconciliation.reconcile(session, provider=found, day=when)
    except DomainError as exc:
        context["problem"] = exc.detail
        return render(request, "admin/reconciliation.html", context, status=exc.status)
    return render(request, "admin/reconciliation.html", context)
