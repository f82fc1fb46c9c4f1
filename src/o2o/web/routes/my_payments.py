"""The shopper's payments and refunds (under Me): what was paid, with which provider, for
which orders, and what came back and why; newest first, a page at a time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from o2o.http.deps import SessionDep
from o2o.orders import payment_history
from o2o.regions import service as regions_service
from o2o.web import deps, vocabulary, when
from o2o.web.deps import UserDep
from o2o.web.render import render
from o2o.web.routes.settlements import reason_text
from o2o.web.vocabulary import N_

router = APIRouter(include_in_schema=False)
PAGE = 10
PAYMENT_STATUS = {
    "pending": N_("Waiting for payment"),
    "succeeded": N_("Paid"),
    "refunded": N_("Refunded"),
    "partly_refunded": N_("Partly refunded"),
}
REFUND_STATUS = {
    "pending": N_("Refund in progress"),
    "succeeded": N_("Refunded"),
    "failed": N_("Refund failed"),
}
DEFAULT_ZONE = "Asia/Shanghai"


def shown_status(item: payment_history.PaymentItem) -> str:
    """A paid payment that money went back from says so."""
    if item.status == "succeeded" and item.refunded:
        return "refunded" if item.refunded >= item.amount else "partly_refunded"
    return item.status


@router.get("/me/payments")
async def history(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    """Payments newest first (``?before=`` the last id shown), each with its refunds."""
    rows = await payment_history.shopper_payments(
        session, shopper_id=viewer.user_id, before_id=before, limit=PAGE
    )
    page = rows[:PAGE]
    locale = deps.state(request).locale
    zones: dict[int, str] = {}
    items: list[dict[str, Any]] = []
    for p in page:
        zone = DEFAULT_ZONE
        if p.orders:
            region_id = p.orders[0].region_id
            if region_id not in zones:
                region = await regions_service.get_region(session, region_id=region_id)
                zones[region_id] = region.timezone
            zone = zones[region_id]
        items.append(
            {
                "payment": p,
                "status": shown_status(p),
                "at": when.local(p.paid_at or p.created_at, timezone=zone, locale=locale),
                "refunds": [
                    {
                        "refund": r,
                        "at": when.local(r.created_at, timezone=zone, locale=locale),
                        "reason": reason_text(request, r.reason),
                    }
                    for r in reversed(p.refunds)
                ],
            }
        )
    return render(
        request,
        "shopper/payments.html",
        {
            "tab": "me",
            "items": items,
            "next_before": page[-1].id if len(rows) > PAGE else None,
            "paged": before is not None,
            "provider_names": vocabulary.PROVIDERS,
            "payment_status": PAYMENT_STATUS,
            "refund_status": REFUND_STATUS,
            "order_status": vocabulary.ORDER_BADGE,
        },
    )
