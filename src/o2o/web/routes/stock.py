"""Merchant console: stock per store as an editable grid with search, and CSV import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import Response

from o2o.core.errors import DomainError, InvalidInput
from o2o.http.deps import IdPath, OptionalIdQuery, SessionDep
from o2o.inventory import grid
from o2o.inventory import service as inventory_service
from o2o.inventory.csv_import import import_stock_csv
from o2o.inventory.csv_rows import MAX_BYTES
from o2o.inventory.exceptions import ImportRejected, ImportTooLarge, ImportUnreadable
from o2o.inventory.models import MovementKind
from o2o.inventory.schemas import ImportRowError
from o2o.web import deps
from o2o.web.deps import UserDep
from o2o.web.errors import error_page
from o2o.web.render import redirect, render
from o2o.web.routes.merchant import store_for, store_index, stores_of

router = APIRouter(
    prefix="/merchant", include_in_schema=False, dependencies=[Depends(deps.check_csrf)]
)
PAGE = 50


@router.get("/stock")
async def pick_store(
    request: Request, session: SessionDep, viewer: UserDep, store: OptionalIdQuery = None
) -> Response:
    """Which store's stock to open; with ``?store=`` (or a single store) go straight there."""
    if store is not None:
        return redirect(request, f"/merchant/stores/{store}/stock")
    groups = await stores_of(session, viewer)
    stores = [s for _m, ss in groups for s in ss]
    if len(stores) == 1:
        return redirect(request, f"/merchant/stores/{stores[0].id}/stock")
    return store_index(request, viewer, groups, section="stock")


@router.get("/stores/{store_id}/stock")
async def stock_grid(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    store_id: IdPath,
    q: Annotated[str | None, Query(max_length=100)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> Response:
    store = await store_for(session, viewer, store_id)
    problem = None
    try:
        rows, more = await grid.store_stock(
            session, store=store, q=q, after_variant_id=after, limit=PAGE
        )
    except InvalidInput:
        rows, more, problem = [], False, "q"
    return render(
        request,
        "merchant/stock.html",
        {
            "section": "stock",
            "store": store,
            "rows": rows,
            "q": q or "",
            "problem": problem,
            "next_after": rows[-1].variant_id if more and rows else None,
        },
    )


@router.post("/stores/{store_id}/stock/{variant_id:int}")
async def set_count(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    store_id: IdPath,
    variant_id: IdPath,
    on_hand: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Set a counted quantity from the grid; answers with the updated row (HTMX) or the grid."""
    store = await store_for(session, viewer, store_id)
    error: str | None = None
    status = 200
    try:
        quantity = int(on_hand.strip())
    except ValueError:
        error, status = "invalid_quantity", 422
    else:
        try:
            await inventory_service.set_on_hand(
                session,
                store=store,
                variant_id=variant_id,
                on_hand=quantity,
                kind=MovementKind.ADJUSTMENT,
                note="console",
                actor_user_id=viewer.user_id,
            )
            await session.commit()
        except DomainError as exc:
            await session.rollback()  # expires the loaded store: load it again below
            error, status = exc.code, exc.status
            store = await store_for(session, viewer, store_id)
    if not request.headers.get("hx-request"):
        if error:
            return error_page(request, status, code=error)
        return redirect(request, f"/merchant/stores/{store_id}/stock")
    rows, _more = await grid.store_stock(session, store=store, variant_ids=[variant_id], limit=1)
    if not rows:
        return error_page(request, 404, code="variant_not_found")
    return render(
        request,
        "merchant/_stock_row.html",
        {"row": rows[0], "store": store, "error": error, "saved": error is None, "sent": on_hand},
        status=status,
    )


@router.get("/stores/{store_id}/stock/import")
async def import_form(
    request: Request, session: SessionDep, viewer: UserDep, store_id: IdPath
) -> Response:
    store = await store_for(session, viewer, store_id)
    return render(request, "merchant/stock_import.html", {"section": "stock", "store": store})


@router.post("/stores/{store_id}/stock/import")
async def import_counts(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    store_id: IdPath,
    file: UploadFile | None = None,
    good_rows_only: Annotated[str | None, Form()] = None,
) -> Response:
    """Check a stock CSV (the API's importer); apply it whole, or its good rows when asked."""
    store = await store_for(session, viewer, store_id)
    context: dict[str, object] = {"section": "stock", "store": store}
    data = await file.read(MAX_BYTES + 1) if file is not None else b""
    if not data:
        context["problem"] = "empty_file"
        return render(request, "merchant/stock_import.html", context, status=422)
    try:
        report = await import_stock_csv(
            session,
            store=store,
            data=data,
            partial=bool(good_rows_only),
            actor_user_id=viewer.user_id,
        )
    except ImportRejected as exc:
        errors = [ImportRowError(**e) for e in exc.extra.get("errors", [])]
        context.update({"errors": errors, "applied": 0, "rejected": len({e.row for e in errors})})
        return render(request, "merchant/stock_import.html", context, status=422)
    except (ImportUnreadable, ImportTooLarge) as exc:
        reasons = exc.extra.get("errors") or [{"code": exc.code}]
        context.update({"problem": reasons[0]["code"], "detail": exc.detail})
        return render(request, "merchant/stock_import.html", context, status=exc.status)
    await session.commit()
    context.update(
        {
            "errors": report.errors,
            "applied": report.applied,
            "unchanged": report.unchanged,
            "rejected": report.rejected,
            "total": report.rows,
        }
    )
    status = 422 if report.errors and not (report.applied or report.unchanged) else 200
    return render(request, "merchant/stock_import.html", context, status=status)
