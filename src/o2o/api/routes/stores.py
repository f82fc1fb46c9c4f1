from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from o2o.api.deps import IdPath, OptionalIdQuery, SessionDep
from o2o.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_id_cursor, encode_cursor
from o2o.inventory import queries as inventory_queries
from o2o.merchants import queries as store_queries
from o2o.merchants import service as merchants_service
from o2o.merchants.schemas import NearbyStoreRead, StoreRead
from o2o.regions import service as regions_service

router = APIRouter(tags=["stores"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


class StorePage(BaseModel):
    items: list[StoreRead]
    next_cursor: str | None


class NearbyPage(BaseModel):
    items: list[NearbyStoreRead]
    next_cursor: str | None


@router.get("/stores", response_model=StorePage)
async def list_stores(
    session: SessionDep,
    region: Annotated[str | None, Query(description="Region code")] = None,
    merchant_id: OptionalIdQuery = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> StorePage:
    """Stores of a region (or a merchant), by id."""
    region_id = None
    if region is not None:
        region_id = (await regions_service.get_region_by_code(session, code=region)).id
    after = decode_id_cursor(cursor)
    stores = await merchants_service.list_stores(
        session,
        region_id=region_id,
        merchant_id=merchant_id,
        after_id=after,
        limit=limit,
    )
    page, more = stores[:limit], len(stores) > limit
    cards = await store_queries.store_cards(session, [s.id for s in page])
    return StorePage(
        items=[cards[s.id] for s in page],
        next_cursor=encode_cursor([page[-1].id]) if more else None,
    )


@router.get("/stores/nearby", response_model=NearbyPage)
async def nearby_stores(
    session: SessionDep,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lng: Annotated[float, Query(ge=-180, le=180)],
    radius_m: Annotated[float, Query(ge=0, le=store_queries.MAX_RADIUS_M)] = 3000,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
    category: str | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    open_now: bool = False,
    variant_id: OptionalIdQuery = None,
    min_qty: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> NearbyPage:
    """Stores near a point, nearest first; with ``variant_id``, only those that have it."""
    filters = store_queries.StoreFilters(category=category, q=q, open_now=open_now)
    if variant_id is not None:
        page = await inventory_queries.nearby_with_stock(
            session,
            lat=lat,
            lng=lng,
            radius_m=radius_m,
            variant_id=variant_id,
            min_qty=min_qty,
            limit=limit,
            cursor=cursor,
            filters=filters,
        )
    else:
        page = await store_queries.nearby_stores(
            session,
            lat=lat,
            lng=lng,
            radius_m=radius_m,
            limit=limit,
            cursor=cursor,
            filters=filters,
        )
    return NearbyPage(items=page.items, next_cursor=page.next_cursor)


@router.get("/stores/{store_id}", response_model=StoreRead)
async def get_store(session: SessionDep, store_id: IdPath) -> StoreRead:
    store = await merchants_service.get_store(session, store_id=store_id)
    return (await store_queries.store_cards(session, [store.id]))[store.id]
