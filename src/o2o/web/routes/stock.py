"""Merchant console: stock per store as an editable grid with search, and CSV import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import Response

from o2o.core.errors import DomainError, InvalidInput
from o2o.inventory import grid, imports
from o2o.inventory import service as inventory_service
from o2o.inventory.models import MovementKind
from o2o.web import deps
from o2o.web.deps import SessionDep, UserDep
from o2o.web.errors import error_page
from o2o.web.render import redirect, render
from o2o.web.routes.merchant import store_for, stores_of

router = APIRouter(
    prefix="/merchant", include_in_schema=False, dependencies=[Depends(deps.check_csrf)]
)
PAGE = 50
MAX_UPLOAD = 2 * 1024 * 1024


@router.get("/stock")
async def pick_store(
    request: Request, session: SessionDep, viewer: UserDep, store: int | None = None
) -> Response:
    """Which store's stock to open; with ``?store=`` (or a single store) go straight there."""
    if store is not None:
        return redirect(request, f"/merchant/stores/{store}/stock")
    groups = await stores_of(session, viewer)
    stores = [s for _m, ss in groups for s in ss]
    if len(stores) == 1:
        return redirect(request, f"/merchant/stores/{stores[0].id}/stock")
    return render(
        request,
        "merchant/index.html",
        {
            "section": "stock",
            "groups": groups,
            "roles": {g.merchant_id: g.role.value for g in viewer.grants},
        },
        status=200 if groups or viewer.is_platform_admin else 403,
    )


@router.get("/stores/{store_id}/stock")
async def stock_grid(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    store_id: int,
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
    store_id: int,
    variant_id: int,
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
    request: Request, session: SessionDep, viewer: UserDep, store_id: int
) -> Response:
    store = await store_for(session, viewer, store_id)
    return render(request, "merchant/stock_import.html", {"section": "stock", "store": store})


@router.post("/stores/{store_id}/stock/import")
async def import_counts(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    store_id: int,
    file: UploadFile | None = None,
    good_rows_only: Annotated[str | None, Form()] = None,
) -> Response:
    """Check a counts CSV; apply it when every row is good, or the good rows when asked to."""
    store = await store_for(session, viewer, store_id)
    context: dict[str, object] = {"section": "stock", "store": store}
    data = await file.read(MAX_UPLOAD + 1) if file is not None else b""
    problem = None
    if not data:
        problem = "empty"
    elif len(data) > MAX_UPLOAD:
        problem = "too_large"
    else:
        try:
            rows = imports.parse_counts(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            problem = "encoding"
        except InvalidInput:
            problem = "columns"
    if problem:
        context["problem"] = problem
        return render(request, "merchant/stock_import.html", context, status=422)
    await imports.check_counts(session, store=store, rows=rows)
    bad = [r for r in rows if r.error]
    applied = 0
    if not bad or good_rows_only:
        applied = await imports.apply_counts(
            session,
            store=store,
            rows=rows,
            actor_user_id=viewer.user_id,
            reference=f"csv:{(file.filename if file else '') or 'upload'}"[:120],
        )
        await session.commit()
    context.update({"rows": rows, "bad": bad, "applied": applied, "total": len(rows)})
    return render(
        request, "merchant/stock_import.html", context, status=422 if bad and not applied else 200
    )
