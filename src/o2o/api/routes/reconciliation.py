"""The daily reconciliation of a payment provider (platform admins): our captures and
refunds of the provider's statement day against its bill, as ``o2o ledger reconcile``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from o2o.accounts.exceptions import NotAllowed
from o2o.api.deps import PrincipalDep, SessionDep
from o2o.http.deps import providers_of
from o2o.ledger.queries.statements import CSV_MEDIA
from o2o.orders import reconciliation
from o2o.orders.reconcile_read import ReconciliationRead, report_csv, to_read

router = APIRouter(tags=["reconciliation"])


@router.get(
    "/admin/reconciliation",
    response_model=ReconciliationRead,
    responses={200: {"content": {"text/csv": {}}}},
)
async def reconcile(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    provider: Annotated[
        str, Query(min_length=1, max_length=32, description="demo, alipay, wechat")
    ],
    day: Annotated[
        date,
        Query(
            alias="date",
            description="The provider's statement day: China time for Alipay and WeChat Pay, "
            "UTC for the demo wallet",
        ),
    ],
    format_: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> ReconciliationRead | Response:
    """Every difference between our books and the provider's bill for the day (missing on
    either side, amount, currency or status differs, booked on another day), the matched
    count and both sides' totals. Reads only; the provider's bill is downloaded each time."""
    if not principal.is_platform_admin:
        raise NotAllowed("Only platform administrators can reconcile payments.")
    chosen = reconciliation.provider_named(providers_of(request), provider)
    report = await reconciliation.reconcile(session, provider=chosen, day=day)
    if format_ == "csv":
        name = f"reconciliation-{report.provider}-{report.day.isoformat()}.csv"
        return Response(
            ("\ufeff" + report_csv(report)).encode(),
            media_type=CSV_MEDIA,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return to_read(report)
