"""Shopper pages: pick a city, what is nearby (map + list), a store, and the bottom-bar tabs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from o2o.catalog import queries as catalog_queries
from o2o.catalog import service as catalog_service
from o2o.catalog.schemas import ProductSummary
from o2o.core.clock import utcnow
from o2o.core.errors import InvalidInput
from o2o.http.deps import IdPath, SessionDep
from o2o.inventory import queries as inventory_queries
from o2o.merchants import queries as store_queries
from o2o.merchants import service as merchants_service
from o2o.regions.models import Region
from o2o.web import deps, views
from o2o.web.render import redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(deps.check_csrf)])

NEARBY_RADIUS_M = 3000
Lat = Annotated[float | None, Query(ge=-90, le=90)]
Lng = Annotated[float | None, Query(ge=-180, le=180)]


@router.get("/")
async def home(request: Request, session: SessionDep, change: bool = False) -> Response:
    """The city picker; a remembered city goes straight to what is nearby."""
    all_regions = await views.regions(session)
    if not change and views.remembered_region(request, all_regions):
        return redirect(request, "/nearby")
    return render(request, "shopper/home.html", {"regions": all_regions, "tab": "nearby"})


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value else None


@router.get("/nearby")
async def nearby(
    request: Request,
    session: SessionDep,
    region: str | None = None,
    lat: Lat = None,
    lng: Lng = None,
    category: str | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    open_now: bool = False,
) -> Response:
    """Stores near the shopper: a server-rendered first page, kept in step with the map by JS."""
    all_regions = await views.regions(session)
    chosen: Region | None = next((r for r in all_regions if r.code == region), None)
    located = lat is not None and lng is not None
    if chosen is None and lat is not None and lng is not None:
        chosen = views.region_at(all_regions, lat, lng)
    chosen = chosen or views.remembered_region(request, all_regions)
    if chosen is None:
        return redirect(request, "/?change=1")
    views.remember_region(request, chosen)
    if lat is None or lng is None or views.region_at([chosen], lat, lng) is None:
        lat, lng, located = chosen.center_lat, chosen.center_lng, False
    filters = store_queries.StoreFilters(category=_blank(category), q=_blank(q), open_now=open_now)
    problem = None
    try:
        page = await store_queries.nearby_stores(
            session, lat=lat, lng=lng, radius_m=NEARBY_RADIUS_M, limit=30, filters=filters
        )
        stores = page.items
    except InvalidInput as exc:
        stores, problem = [], exc.field
    categories = await merchants_service.list_categories(session)
    return render(
        request,
        "shopper/nearby.html",
        {
            "tab": "nearby",
            "region": chosen,
            "stores": stores,
            "problem": problem,
            "categories": categories,
            "filters": filters,
            "center": {"lat": lat, "lng": lng},
            "located": located,
            "radius_m": NEARBY_RADIUS_M,
        },
    )


@router.get("/stores/{store_id}")
async def store_page(request: Request, session: SessionDep, store_id: IdPath) -> Response:
    """One store: hours in its city's local time, address, map, what it offers."""
    store = await merchants_service.get_store(session, store_id=store_id)
    card = (await store_queries.store_cards(session, [store.id]))[store.id]
    region = next(r for r in await views.regions(session) if r.id == card.region_id)
    local_now: datetime = utcnow().astimezone(ZoneInfo(region.timezone))
    products = await _products_at(request, session, store_id=store.id)
    return render(
        request,
        "shopper/store.html",
        {
            "tab": "nearby",
            "store": card,
            "region": region,
            "week": views.week_table(card.opening_hours, local_now.weekday()),
            "local_now": local_now.strftime("%H:%M"),
            "products": products,
        },
    )


async def _products_at(
    request: Request, session: SessionDep, *, store_id: IdPath
) -> list[ProductSummary]:
    """Products with at least one unit available at the store."""
    products = await catalog_service.search_products(
        session, product_ids=inventory_queries.product_ids_in_stock_at(store_id), limit=40
    )
    return await catalog_queries.product_summaries(
        session, products[:40], storage=request.app.state.storage
    )


@router.get("/deals")
async def deals(request: Request) -> Response:
    return render(request, "shopper/coming.html", {"tab": "deals", "what": "deals"})
