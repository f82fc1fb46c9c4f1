"""Merchant console: the catalog — products with their variants, listed, created and edited."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError

from o2o.accounts.models import MemberRole
from o2o.accounts.principal import Principal
from o2o.catalog import queries as catalog_queries
from o2o.catalog import service as catalog_service
from o2o.catalog.photos import MAX_PHOTO_BYTES
from o2o.catalog.schemas import ProductCreate, ProductUpdate, VariantCreate, VariantUpdate
from o2o.core.errors import DomainError, InvalidInput
from o2o.http.deps import IdPath, OptionalIdQuery, SessionDep
from o2o.merchants import service as merchants_service
from o2o.web import deps
from o2o.web.deps import UserDep
from o2o.web.render import redirect, render

router = APIRouter(
    prefix="/merchant/catalog", include_in_schema=False, dependencies=[Depends(deps.check_csrf)]
)
EDITORS = (MemberRole.OWNER, MemberRole.MANAGER)
SKU_PREFIX = re.compile(r"^[A-Za-z0-9._-]{1,20}$")


def _editable(viewer: Principal) -> list[int]:
    return [g.merchant_id for g in viewer.grants if g.role in EDITORS]


@router.get("")
async def catalog_list(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Each merchant's products (first 100, or those matching ``q``)."""
    groups = []
    problem = None
    for grant in viewer.grants:
        merchant = await merchants_service.get_merchant(session, merchant_id=grant.merchant_id)
        try:
            products = await catalog_service.search_products(
                session, merchant_id=merchant.id, q=q or None, limit=100
            )
        except InvalidInput:
            products, problem = [], "q"
        summaries = await catalog_queries.product_summaries(
            session, products[:100], storage=request.app.state.storage
        )
        groups.append((merchant, summaries))
    return render(
        request,
        "merchant/catalog.html",
        {
            "section": "catalog",
            "groups": groups,
            "q": q or "",
            "problem": problem,
            "editable": _editable(viewer),
        },
        status=200 if groups else 403,
    )


def _yuan_to_minor(text: str) -> int:
    try:
        amount = Decimal(text.strip().replace(",", "").lstrip("¥"))
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(text)
    return int(amount * 100)


def _split(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,，]", text) if p.strip()]


def _new_product(raw: dict[str, str]) -> tuple[ProductCreate | None, dict[str, str]]:
    """A ``ProductCreate`` from the form: sizes × colours become variants with SKUs."""
    errors: dict[str, str] = {}
    for name in ("title", "title_zh"):
        if not raw.get(name, "").strip():
            errors[name] = "required"
    try:
        price = _yuan_to_minor(raw.get("price", ""))
    except ValueError:
        errors["price"] = "price"
        price = 0
    prefix = raw.get("sku_prefix", "").strip()
    if not SKU_PREFIX.match(prefix):
        errors["sku_prefix"] = "sku"
    sizes, colours = _split(raw.get("sizes", "")), _split(raw.get("colors", ""))
    if len(sizes) * max(len(colours), 1) > 200:
        errors["sizes"] = "too_many"
    if errors:
        return None, errors
    combos = [(s, c) for s in sizes or [""] for c in colours or [""]]
    variants = []
    for size, colour in combos:
        attributes = {k: v for k, v in (("size", size), ("color", colour)) if v}
        suffix = "-".join(re.sub(r"[^A-Za-z0-9]", "", v).upper() for v in (colour, size) if v)
        sku = f"{prefix}-{suffix}" if suffix else prefix
        variants.append({"sku": sku, "attributes": attributes, "price": price})
    try:
        data = ProductCreate(
            title=raw["title"].strip(),
            title_zh=raw["title_zh"].strip(),
            brand=raw.get("brand", "").strip(),
            description=raw.get("description", "").strip(),
            description_zh=raw.get("description_zh", "").strip(),
            category=raw.get("category") or None,
            variants=[VariantCreate(**v) for v in variants],
        )
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors() else "form"
        return None, {"sizes" if field == "variants" else field: "invalid"}
    return data, {}


async def _form_page(
    request: Request,
    session: SessionDep,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> Response:
    categories = await merchants_service.list_categories(session)
    return render(
        request,
        template,
        {"section": "catalog", "categories": categories, **context},
        status=status,
    )


@router.get("/new")
async def new_form(
    request: Request, session: SessionDep, viewer: UserDep, merchant: OptionalIdQuery = None
) -> Response:
    editable = _editable(viewer)
    merchant_id = merchant if merchant in editable else (editable[0] if editable else None)
    if merchant_id is None:
        viewer.require_merchant(merchant or 0, EDITORS)  # refuses with 403
    return await _form_page(
        request,
        session,
        "merchant/product_new.html",
        {"merchant_id": merchant_id, "form": {"sizes": "S, M, L", "colors": ""}, "errors": {}},
    )


@router.post("/new")
async def create(request: Request, session: SessionDep, viewer: UserDep) -> Response:
    raw = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        merchant_id = int(raw.get("merchant_id", ""))
    except ValueError:
        merchant_id = 0
    viewer.require_merchant(merchant_id, EDITORS)
    data, errors = _new_product(raw)
    if data is not None:
        try:
            product = await catalog_service.create_product(
                session, merchant_id=merchant_id, data=data
            )
            await session.commit()
            return redirect(request, f"/merchant/catalog/{product.id}?saved=1")
        except DomainError as exc:
            await session.rollback()
            errors = {"sku_prefix" if exc.code == "duplicate_sku" else "category": exc.code}
    return await _form_page(
        request,
        session,
        "merchant/product_new.html",
        {"merchant_id": merchant_id, "form": raw, "errors": errors},
        status=422,
    )


async def _product_for(session: SessionDep, viewer: Principal, product_id: IdPath) -> Any:
    product = await catalog_service.get_product(session, product_id=product_id)
    viewer.require_merchant(product.merchant_id, EDITORS)
    return product


async def _edit_page(
    request: Request,
    session: SessionDep,
    viewer: Principal,
    product_id: int,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    **flags: object,
) -> Response:
    """The product edit page, with what was sent (``form``) over what is stored."""
    product = await _product_for(session, viewer, product_id)
    read = await catalog_queries.product_read(session, product, storage=request.app.state.storage)
    context = {
        "product": read,
        "form": {**read.model_dump(), **(form or {})},
        "errors": errors or {},
        "saved": False,
        **flags,
    }
    return await _form_page(request, session, "merchant/product_edit.html", context, status=status)


@router.get("/{product_id:int}")
async def edit_form(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    product_id: IdPath,
    saved: bool = False,
    photo: bool = False,
) -> Response:
    return await _edit_page(request, session, viewer, product_id, saved=saved, photo_added=photo)


@router.post("/{product_id:int}/photos")
async def upload_photo(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    product_id: IdPath,
    file: UploadFile | None = None,
) -> Response:
    """Add a photo to the product (stored through the app's storage)."""
    product = await _product_for(session, viewer, product_id)
    data = await file.read(MAX_PHOTO_BYTES + 1) if file is not None else b""
    problem = "empty" if not data else None
    if problem is None:
        try:
            await catalog_service.add_photo(
                session, product_id=product.id, data=data, storage=request.app.state.storage
            )
            await session.commit()
            return redirect(request, f"/merchant/catalog/{product_id}?photo=1")
        except DomainError as exc:
            await session.rollback()
            problem = exc.code
    return await _edit_page(request, session, viewer, product_id, photo_error=problem, status=422)


@router.post("/{product_id:int}")
async def save(
    request: Request, session: SessionDep, viewer: UserDep, product_id: IdPath
) -> Response:
    """Save titles, texts and each variant's price and whether it is sold."""
    product = await _product_for(session, viewer, product_id)
    raw = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    errors: dict[str, str] = {}
    for name in ("title", "title_zh"):
        if not raw.get(name, "").strip():
            errors[name] = "required"
    variants = await catalog_service.variants_of(session, product.id)
    prices: dict[int, int] = {}
    for v in variants:
        try:
            prices[v.id] = _yuan_to_minor(raw.get(f"price_{v.id}", ""))
        except ValueError:
            errors[f"price_{v.id}"] = "price"
    if not errors:
        try:
            await catalog_service.update_product(
                session,
                product_id=product.id,
                data=ProductUpdate(
                    title=raw["title"].strip(),
                    title_zh=raw["title_zh"].strip(),
                    brand=raw.get("brand", "").strip()[:120],
                    description=raw.get("description", "").strip()[:5000],
                    description_zh=raw.get("description_zh", "").strip()[:5000],
                ),
            )
            for v in variants:
                await catalog_service.update_variant(
                    session,
                    variant_id=v.id,
                    data=VariantUpdate(price=prices[v.id], is_active=f"active_{v.id}" in raw),
                )
            await session.commit()
            return redirect(request, f"/merchant/catalog/{product_id}?saved=1")
        except (ValidationError, DomainError):
            await session.rollback()
            errors["form"] = "invalid"
    return await _edit_page(
        request, session, viewer, product_id, form=raw, errors=errors, status=422
    )
