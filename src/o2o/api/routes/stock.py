"""A store's stock for its staff: the grid, the ledger, adjustments, CSV import, POS sync.

Every change is published after commit on ``stock:variant:{id}`` and ``stock:store:{id}``
so open product pages and consoles update live.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from o2o.api.deps import IdPath, PrincipalDep, SessionDep, staff_store
from o2o.api.idempotency import IdempotencyKey, idempotent
from o2o.core.errors import InvalidInput
from o2o.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_id_cursor, encode_cursor
from o2o.inventory import csv_import, pos
from o2o.inventory import queries as inventory_queries
from o2o.inventory import service as inventory_service
from o2o.inventory.csv_rows import MAX_BYTES
from o2o.inventory.exceptions import ImportTooLarge, ImportUnreadable
from o2o.inventory.schemas import (
    ImportReport,
    MovementRead,
    PosSaleCreate,
    PosSaleRead,
    StockLevelRead,
    StockRow,
    StockSet,
)

router = APIRouter(tags=["stock"])
log = logging.getLogger("o2o.api.stock")
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
ApplyMode = Literal["all", "partial"]
CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel")


class StockPage(BaseModel):
    items: list[StockRow]
    next_cursor: str | None


class MovementPage(BaseModel):
    items: list[MovementRead]
    next_cursor: str | None


async def publish_levels(request: Request, levels: Iterable[tuple[int, int, int, int]]) -> None:
    """Announce ``(store_id, variant_id, on_hand, available)`` changes; best effort."""
    broker = request.app.state.broker
    try:
        for store_id, variant_id, on_hand, available in levels:
            message = {
                "store_id": store_id,
                "variant_id": variant_id,
                "available": available,
                "on_hand": on_hand,
            }
            await broker.publish(f"stock:variant:{variant_id}", message)
            await broker.publish(f"stock:store:{store_id}", message)
    except Exception:  # the change is committed; a lost live update must not fail it
        log.exception("could not publish stock updates")


@router.get("/stores/{store_id}/stock", response_model=StockPage)
async def stock_grid(
    session: SessionDep,
    principal: PrincipalDep,
    store_id: IdPath,
    q: Annotated[str | None, Query(max_length=100, description="sku, barcode or title")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> StockPage:
    """Every variant of the merchant with its stock at this store, by variant id."""
    store = await staff_store(session, principal, store_id)
    after = decode_id_cursor(cursor)
    rows = await inventory_queries.stock_grid(
        session,
        store_id=store.id,
        merchant_id=store.merchant_id,
        q=q,
        after_variant_id=after,
        limit=limit,
    )
    page, more = rows[:limit], len(rows) > limit
    return StockPage(items=page, next_cursor=encode_cursor([page[-1].variant_id]) if more else None)


@router.get("/stores/{store_id}/stock/{variant_id}/movements", response_model=MovementPage)
async def stock_movements(
    session: SessionDep,
    principal: PrincipalDep,
    store_id: IdPath,
    variant_id: IdPath,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> MovementPage:
    """The ledger of this stock row, newest first."""
    store = await staff_store(session, principal, store_id)
    await inventory_service.variant_of_merchant(
        session, variant_id=variant_id, merchant_id=store.merchant_id
    )
    before = decode_id_cursor(cursor)
    rows = await inventory_queries.movements(
        session,
        store_id=store.id,
        variant_id=variant_id,
        before_id=before,
        limit=limit,
    )
    page, more = rows[:limit], len(rows) > limit
    return MovementPage(
        items=[MovementRead.model_validate(m) for m in page],
        next_cursor=encode_cursor([page[-1].id]) if more else None,
    )


@router.put("/stores/{store_id}/stock/{variant_id}", response_model=StockLevelRead)
async def set_stock(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    store_id: IdPath,
    variant_id: IdPath,
    body: StockSet,
) -> StockLevelRead:
    """Set the counted quantity on hand; the ledger records the difference as an adjustment."""
    store = await staff_store(session, principal, store_id)
    change = await inventory_service.set_on_hand(
        session,
        store=store,
        variant_id=variant_id,
        on_hand=body.on_hand,
        note=body.note,
        actor_user_id=principal.user_id,
    )
    await session.commit()
    await publish_levels(request, [(store.id, variant_id, change.on_hand, change.available)])
    return StockLevelRead(
        store_id=store.id,
        variant_id=variant_id,
        on_hand=change.on_hand,
        reserved=change.on_hand - change.available,
        available=change.available,
    )


async def _read_upload(request: Request) -> tuple[bytes, str | None]:
    """The file's bytes (multipart ``file`` or a CSV body) and a form ``apply`` field."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BYTES + 64 * 1024:
        raise ImportTooLarge(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=5)
        upload, apply = form.get("file"), form.get("apply")
        if not isinstance(upload, UploadFile):
            raise ImportUnreadable("Attach the CSV as the form field 'file'.", field="file")
        data = await upload.read(MAX_BYTES + 1)
        return data, apply if isinstance(apply, str) else None
    if content_type in CSV_TYPES:
        received = bytearray()
        async for chunk in request.stream():
            received += chunk
            if len(received) > MAX_BYTES:
                raise ImportTooLarge(
                    f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it."
                )
        return bytes(received), None
    raise HTTPException(415, "Send the CSV as multipart/form-data (field 'file') or text/csv.")


@router.post(
    "/stores/{store_id}/stock/import",
    response_model=ImportReport,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "apply": {"type": "string", "enum": ["all", "partial"]},
                        },
                        "required": ["file"],
                    }
                },
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_stock(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    store_id: IdPath,
    apply: Annotated[ApplyMode | None, Query(description="'partial' applies the good rows")] = None,
) -> ImportReport:
    """Import a stock CSV. Every row is checked first; any bad row means nothing is applied
    (422 with every row's errors) unless ``apply=partial``, which applies the good rows."""
    store = await staff_store(session, principal, store_id)
    data, form_apply = await _read_upload(request)
    mode = apply or form_apply or "all"
    if mode not in ("all", "partial"):
        raise InvalidInput("apply must be 'all' or 'partial'.", field="apply")
    report = await csv_import.import_stock_csv(
        session,
        store=store,
        data=data,
        partial=mode == "partial",
        actor_user_id=principal.user_id,
    )
    await session.commit()
    await publish_levels(
        request,
        ((store.id, r.variant_id, r.on_hand, r.available) for r in report.results if r.delta),
    )
    return report


@router.post(
    "/stores/{store_id}/pos-sales",
    response_model=PosSaleRead,
    status_code=201,
    responses={200: {"model": PosSaleRead, "description": "This sale id was already applied"}},
)
async def pos_sale(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    store_id: IdPath,
    body: PosSaleCreate,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Apply an offline sale at once (requires ``Idempotency-Key``). Lines beyond what is
    available apply what they can and report a shortfall; a sale id is applied once."""
    store = await staff_store(session, principal, store_id)
    changed: list[tuple[int, int, int, int]] = []

    async def action() -> tuple[int, Any]:
        result, created = await pos.record_pos_sale(
            session, store=store, data=body, actor_user_id=principal.user_id
        )
        if created:
            last = {line.variant_id: line for line in result.lines if line.applied}
            changed.extend((store.id, v, x.on_hand, x.available) for v, x in last.items())
        return (201 if created else 200), result.model_dump(mode="json")

    async def announce() -> None:
        await publish_levels(request, changed)

    return await idempotent(
        request,
        session,
        principal=principal,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        action=action,
        after_commit=announce,
    )
