"""Merchant console: the stores a member may run, and their details."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError

from o2o.accounts.models import MemberRole
from o2o.accounts.principal import Principal
from o2o.core.errors import InvalidInput
from o2o.http.deps import IdPath, OptionalIdQuery, SessionDep
from o2o.inventory import service as inventory_service
from o2o.ledger import access as ledger_access
from o2o.merchants import service as merchants_service
from o2o.merchants.models import Merchant, Store
from o2o.merchants.schemas import Fulfilment, StoreUpdate
from o2o.web import deps, views
from o2o.web.deps import UserDep
from o2o.web.render import redirect, render

router = APIRouter(
    prefix="/merchant", include_in_schema=False, dependencies=[Depends(deps.check_csrf)]
)
MANAGERS = (MemberRole.OWNER, MemberRole.MANAGER)
FULFILMENT = ("pickup", "reserve", "delivery", "shipping", "booking", "scan_go")


async def stores_of(session: SessionDep, viewer: Principal) -> list[tuple[Merchant, list[Store]]]:
    """Each merchant the viewer works for, with the stores they may see there."""
    out: list[tuple[Merchant, list[Store]]] = []
    for grant in viewer.grants:
        merchant = await merchants_service.get_merchant(session, merchant_id=grant.merchant_id)
        stores: list[Store] = []
        after: OptionalIdQuery = None
        while True:
            batch = await merchants_service.list_stores(
                session, merchant_id=merchant.id, after_id=after, limit=200, include_inactive=True
            )
            stores.extend(batch[:200])
            if len(batch) <= 200:
                break
            after = batch[199].id
        if grant.store_ids:
            stores = [s for s in stores if s.id in grant.store_ids]
        out.append((merchant, stores))
    return out


async def store_for(
    session: SessionDep,
    viewer: Principal,
    store_id: IdPath,
    roles: tuple[MemberRole, ...] = tuple(MemberRole),
) -> Store:
    """The store, if the viewer may act there in one of ``roles`` (403 otherwise)."""
    store = await merchants_service.get_store(session, store_id=store_id)
    viewer.require_store(store.merchant_id, store.id, roles)
    return store


def store_index(
    request: Request,
    viewer: Principal,
    groups: list[tuple[Merchant, list[Store]]],
    *,
    section: str,
) -> Response:
    """The caller's stores grouped by merchant (403 for someone who works for none)."""
    return render(
        request,
        "merchant/index.html",
        {
            "section": section,
            "groups": groups,
            "roles": {g.merchant_id: g.role.value for g in viewer.grants},
            "money": {m.id for m, _stores in groups if ledger_access.may_read(viewer, m.id)},
        },
        status=200 if groups or viewer.is_platform_admin else 403,
    )


@router.get("")
async def console(request: Request, session: SessionDep, viewer: UserDep) -> Response:
    return store_index(request, viewer, await stores_of(session, viewer), section="stores")


def _form_of(store: Store) -> dict[str, Any]:
    return {
        "name": store.name,
        "name_zh": store.name_zh,
        "address": store.address,
        "address_zh": store.address_zh,
        "phone": store.phone,
        "lat": f"{store.lat:.6f}",
        "lng": f"{store.lng:.6f}",
        "delivery_radius_m": str(store.delivery_radius_m),
        "hours": [views.format_day(day) for day in store.opening_hours],
        **{f: getattr(store, f"offers_{f}") for f in FULFILMENT},
    }


def _edit_page(
    request: Request, store: Store, form: dict[str, Any], errors: dict[str, str], *, saved: bool
) -> Response:
    return render(
        request,
        "merchant/store_edit.html",
        {
            "section": "stores",
            "store": store,
            "form": form,
            "errors": errors,
            "saved": saved,
            "fulfilment": FULFILMENT,
        },
        status=422 if errors else 200,
    )


@router.get("/stores/{store_id}")
async def edit_store(
    request: Request, session: SessionDep, viewer: UserDep, store_id: IdPath, saved: bool = False
) -> Response:
    store = await store_for(session, viewer, store_id, MANAGERS)
    return _edit_page(request, store, _form_of(store), {}, saved=saved)


def _parse_store_form(raw: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The update's fields from the form, and a message key per field that is wrong."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    for name in ("name", "name_zh", "address", "address_zh", "phone"):
        data[name] = raw.get(name, "").strip()
    for name in ("lat", "lng"):
        try:
            data[name] = float(raw.get(name, ""))
        except ValueError:
            errors[name] = "number"
    try:
        data["delivery_radius_m"] = int(raw.get("delivery_radius_m", ""))
    except ValueError:
        errors["delivery_radius_m"] = "whole"
    week = []
    for day in range(7):
        try:
            week.append(views.parse_day(raw.get(f"hours_{day}", "")))
        except ValueError:
            errors[f"hours_{day}"] = "hours"
    data["opening_hours"] = week
    data["fulfilment"] = Fulfilment(**{f: raw.get(f) == "on" for f in FULFILMENT})
    return data, errors


@router.post("/stores/{store_id}")
async def save_store(
    request: Request, session: SessionDep, viewer: UserDep, store_id: IdPath
) -> Response:
    """Save hours, fulfilment, position and contact details; errors come back on the form."""
    store = await store_for(session, viewer, store_id, MANAGERS)
    raw = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    data, errors = _parse_store_form(raw)
    form: dict[str, Any] = {**raw, "hours": [raw.get(f"hours_{d}", "") for d in range(7)]}
    form.update({f: raw.get(f) == "on" for f in FULFILMENT})
    if not errors:
        try:
            update = StoreUpdate(**data)
            copied = (update.lat, update.lng) != (store.lat, store.lng) or (
                update.is_active is not None and update.is_active != store.is_active
            )
            store = await merchants_service.update_store(session, store_id=store.id, data=update)
            if copied:  # stock rows carry the store's position and active flag for geo search
                await inventory_service.copy_store(session, store=store)
        except ValidationError as exc:
            errors = {str(e["loc"][0]): "invalid" for e in exc.errors()}
        except InvalidInput as exc:
            await session.rollback()
            field = (exc.field or "form").split("[")[0].split(".")[0]
            errors = {"lat" if field == "lat" else field: "bounds" if field == "lat" else "hours"}
    if errors:
        await session.rollback()
        store = await store_for(session, viewer, store_id, MANAGERS)
        return _edit_page(request, store, form, errors, saved=False)
    await session.commit()
    return redirect(request, f"/merchant/stores/{store.id}?saved=1")
