"""Products: public reads, availability, label QR codes, and merchant writes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel

from o2o.accounts.models import MemberRole
from o2o.api.deps import IdPath, OptionalIdQuery, PrincipalDep, SessionDep, SettingsDep
from o2o.catalog import labels
from o2o.catalog import queries as catalog_queries
from o2o.catalog import service as catalog_service
from o2o.catalog.schemas import (
    PhotoRead,
    ProductCreate,
    ProductRead,
    ProductSummary,
    ProductUpdate,
    VariantCreate,
    VariantRead,
    VariantUpdate,
)
from o2o.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_id_cursor, encode_cursor
from o2o.http.deps import storage_of
from o2o.inventory import queries as inventory_queries
from o2o.merchants import queries as store_queries
from o2o.merchants import service as merchants_service
from o2o.merchants.schemas import StoreRead

router = APIRouter(tags=["catalog"])
EDITORS = (MemberRole.OWNER, MemberRole.MANAGER)


class ProductPage(BaseModel):
    items: list[ProductSummary]
    next_cursor: str | None


class VariantStock(BaseModel):
    variant_id: int
    available: int


class StoreAvailability(BaseModel):
    store: StoreRead
    distance_m: float
    stock: list[VariantStock]


class AvailabilityRead(BaseModel):
    product: ProductRead
    stores: list[StoreAvailability]


class VariantWithProduct(VariantRead):
    product: ProductRead


@router.get("/products", response_model=ProductPage)
async def list_products(
    request: Request,
    session: SessionDep,
    merchant_id: OptionalIdQuery = None,
    store_id: OptionalIdQuery = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> ProductPage:
    """Products by id; ``store_id`` keeps those in stock at that store; ``q`` is zh/en text."""
    product_ids = None
    if store_id is not None:
        await merchants_service.get_store(session, store_id=store_id)
        product_ids = inventory_queries.product_ids_in_stock_at(store_id)
    after = decode_id_cursor(cursor)
    products = await catalog_service.search_products(
        session,
        merchant_id=merchant_id,
        q=q,
        category=category,
        product_ids=product_ids,
        after_id=after,
        limit=limit,
    )
    page = products[:limit]
    items = await catalog_queries.product_summaries(session, page, storage=storage_of(request))
    more = len(products) > limit
    return ProductPage(items=items, next_cursor=encode_cursor([page[-1].id]) if more else None)


@router.get("/products/{product_id}", response_model=ProductRead)
async def get_product(request: Request, session: SessionDep, product_id: IdPath) -> ProductRead:
    """A product with its variants (``id, sku, barcode, attributes, price``) and photos."""
    product = await catalog_service.get_product(session, product_id=product_id)
    return await catalog_queries.product_read(session, product, storage=storage_of(request))


@router.get("/products/{product_id}/availability", response_model=AvailabilityRead)
async def product_availability(
    request: Request,
    session: SessionDep,
    product_id: IdPath,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lng: Annotated[float, Query(ge=-180, le=180)],
    radius_m: Annotated[float, Query(ge=0, le=store_queries.MAX_RADIUS_M)] = 5000,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 30,
) -> AvailabilityRead:
    """Every variant's stock at each nearby store that carries the product, nearest first."""
    product = await catalog_service.get_product(session, product_id=product_id)
    read = await catalog_queries.product_read(session, product, storage=storage_of(request))
    rows = await inventory_queries.product_availability(
        session,
        lat=lat,
        lng=lng,
        radius_m=radius_m,
        variant_ids=[v.id for v in read.variants if v.is_active],
        limit=limit,
    )
    cards = await store_queries.store_cards(session, [r.store_id for r in rows])
    return AvailabilityRead(
        product=read,
        stores=[
            StoreAvailability(
                store=cards[r.store_id],
                distance_m=round(r.distance_m, 1),
                stock=[
                    VariantStock(variant_id=v.id, available=r.quantities.get(v.id, 0))
                    for v in read.variants
                    if v.is_active
                ],
            )
            for r in rows
        ],
    )


@router.get("/variants/by-code/{code}", response_model=VariantWithProduct)
async def variant_by_code(
    request: Request, session: SessionDep, code: str, merchant_id: OptionalIdQuery = None
) -> VariantWithProduct:
    """The variant with this barcode (or SKU), with its product."""
    variant = await catalog_service.variant_by_code(session, code=code, merchant_id=merchant_id)
    product = await catalog_service.get_product(session, product_id=variant.product_id)
    read = await catalog_queries.product_read(session, product, storage=storage_of(request))
    return VariantWithProduct(**VariantRead.model_validate(variant).model_dump(), product=read)


@router.get(
    "/products/{product_id}/label.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def product_label(
    session: SessionDep, settings: SettingsDep, product_id: IdPath, store_id: OptionalIdQuery = None
) -> Response:
    """A QR code for the product's shelf label; it opens the availability page."""
    await catalog_service.get_product(session, product_id=product_id)
    if store_id is not None:
        await merchants_service.get_store(session, store_id=store_id)
    url = labels.label_url(settings.base_url, product_id=product_id, store_id=store_id)
    return Response(labels.qr_svg(url), media_type="image/svg+xml")


@router.post(
    "/merchants/{merchant_id}/products",
    response_model=ProductRead,
    status_code=status.HTTP_201_CREATED,
)
async def create_product(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    merchant_id: IdPath,
    body: ProductCreate,
) -> ProductRead:
    """Add a product with its variants (owners and managers)."""
    await merchants_service.get_merchant(session, merchant_id=merchant_id)
    principal.require_merchant(merchant_id, EDITORS)
    product = await catalog_service.create_product(session, merchant_id=merchant_id, data=body)
    read = await catalog_queries.product_read(session, product, storage=storage_of(request))
    await session.commit()
    return read


async def _editable_product(
    session: SessionDep, principal: PrincipalDep, product_id: IdPath
) -> int:
    product = await catalog_service.get_product(session, product_id=product_id)
    principal.require_merchant(product.merchant_id, EDITORS)
    return product.id


@router.patch("/products/{product_id}", response_model=ProductRead)
async def update_product(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    product_id: IdPath,
    body: ProductUpdate,
) -> ProductRead:
    await _editable_product(session, principal, product_id)
    product = await catalog_service.update_product(session, product_id=product_id, data=body)
    read = await catalog_queries.product_read(session, product, storage=storage_of(request))
    await session.commit()
    return read


@router.post(
    "/products/{product_id}/variants",
    response_model=VariantRead,
    status_code=status.HTTP_201_CREATED,
)
async def add_variant(
    session: SessionDep, principal: PrincipalDep, product_id: IdPath, body: VariantCreate
) -> VariantRead:
    await _editable_product(session, principal, product_id)
    variant = await catalog_service.add_variant(session, product_id=product_id, data=body)
    await session.commit()
    return VariantRead.model_validate(variant)


@router.patch("/variants/{variant_id}", response_model=VariantRead)
async def update_variant(
    session: SessionDep, principal: PrincipalDep, variant_id: IdPath, body: VariantUpdate
) -> VariantRead:
    variant = await catalog_service.get_variant(session, variant_id=variant_id)
    principal.require_merchant(variant.merchant_id, EDITORS)
    variant = await catalog_service.update_variant(session, variant_id=variant_id, data=body)
    await session.commit()
    return VariantRead.model_validate(variant)


@router.post(
    "/products/{product_id}/photos", response_model=PhotoRead, status_code=status.HTTP_201_CREATED
)
async def upload_photo(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    product_id: IdPath,
    file: UploadFile,
) -> PhotoRead:
    """Upload a JPEG/PNG/GIF/WebP photo (at most 5 MB)."""
    await _editable_product(session, principal, product_id)
    data = await file.read(5 * 1024 * 1024 + 1)
    storage = storage_of(request)
    photo = await catalog_service.add_photo(
        session, product_id=product_id, data=data, storage=storage
    )
    await session.commit()
    return PhotoRead(id=photo.id, url=storage.url(photo.storage_key))
