"""Product page: photos, price, a size × colour picker, and the nearest stores that have it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from o2o.catalog import queries as catalog_queries
from o2o.catalog import service as catalog_service
from o2o.catalog.schemas import VariantRead
from o2o.http.deps import IdPath, OptionalIdQuery, SessionDep
from o2o.inventory import queries as inventory_queries
from o2o.merchants import service as merchants_service
from o2o.merchants.exceptions import StoreNotFound
from o2o.merchants.schemas import NearbyStoreRead
from o2o.regions.models import Region
from o2o.web import deps, views
from o2o.web.render import money, redirect, render, translations_for

router = APIRouter(include_in_schema=False, dependencies=[Depends(deps.check_csrf)])

SEARCH_RADIUS_M = 10_000
NEAREST = 5
OPTION_PREFIX = "opt_"


def choose_variant(
    variants: list[VariantRead],
    *,
    wanted: int | None,
    options: dict[str, str],
    totals: dict[int, int],
) -> VariantRead:
    """The asked-for variant, else the one matching the picked options, else one in stock."""
    by_id = {v.id: v for v in variants}
    if wanted in by_id:
        return by_id[wanted]
    if options:
        matching = [
            v for v in variants if all(v.attributes.get(k) == val for k, val in options.items())
        ]
        if matching:
            return max(matching, key=lambda v: totals.get(v.id, 0) > 0)
    return max(variants, key=lambda v: totals.get(v.id, 0))


def store_rows(stores: list[NearbyStoreRead], regions: list[Region]) -> list[dict[str, Any]]:
    """Each store with what a shopper decides on: stock left, distance, pickup or delivery."""
    by_id = {r.id: r for r in regions}
    rows = []
    for s in stores:
        now = views.local_time(by_id[s.region_id])
        closes = views.closing_today(s.opening_hours, now) if s.open_now else None
        rows.append(
            {
                "store": s,
                "pickup_by": closes if s.fulfilment.pickup else None,
                "delivers": s.fulfilment.delivery and s.distance_m <= s.delivery_radius_m,
            }
        )
    return rows


@router.get("/products/{product_id}")
async def product_page(
    request: Request,
    session: SessionDep,
    product_id: IdPath,
    variant: OptionalIdQuery = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lng: Annotated[float | None, Query(ge=-180, le=180)] = None,
) -> Response:
    product = await catalog_service.get_product(session, product_id=product_id)
    read = await catalog_queries.product_read(session, product, storage=request.app.state.storage)
    all_regions = await views.regions(session)
    region = (
        (views.region_at(all_regions, lat, lng) if lat is not None and lng is not None else None)
        or views.remembered_region(request, all_regions)
        or (all_regions[0] if all_regions else None)
    )
    if lat is None or lng is None:
        lat = region.center_lat if region else 0.0
        lng = region.center_lng if region else 0.0
    variants = [v for v in read.variants if v.is_active]
    availability = await inventory_queries.product_availability(
        session,
        lat=lat,
        lng=lng,
        radius_m=SEARCH_RADIUS_M,
        variant_ids=[v.id for v in variants],
        limit=50,
    )
    totals = {v.id: sum(s.quantities.get(v.id, 0) for s in availability) for v in variants}
    options = {
        key[len(OPTION_PREFIX) :]: value
        for key, value in request.query_params.items()
        if key.startswith(OPTION_PREFIX)
    }
    chosen = (
        choose_variant(variants, wanted=variant, options=options, totals=totals)
        if variants
        else None
    )
    stores: list[NearbyStoreRead] = []
    if chosen is not None:
        page = await inventory_queries.nearby_with_stock(
            session,
            lat=lat,
            lng=lng,
            radius_m=SEARCH_RADIUS_M,
            variant_id=chosen.id,
            limit=NEAREST,
        )
        stores = page.items
    locale = deps.state(request).locale
    translations = translations_for(request)
    offset = views.local_time(region).utcoffset() if region else None
    return render(
        request,
        "shopper/product.html",
        {
            "tab": "nearby",
            "product": read,
            "variants": variants,
            "chosen": chosen,
            "totals": totals,
            "rows": store_rows(stores, all_regions),
            "center": {"lat": lat, "lng": lng},
            "radius_m": SEARCH_RADIUS_M,
            "utc_offset_min": int(offset.total_seconds() // 60) if offset else 0,
            "variant_data": [
                {
                    "id": v.id,
                    "attributes": v.attributes,
                    "price": money(v.price, read.currency, locale),
                }
                for v in variants
            ],
            "names": {
                value: str(translations.gettext(value))
                for values in read.attribute_options.values()
                for value in values
            },
            "region": region,
        },
    )


@router.get("/p/{product_id}")
async def label_landing(
    request: Request,
    session: SessionDep,
    product_id: IdPath,
    store: OptionalIdQuery = None,
) -> Response:
    """Where a shelf label's QR code points: the product's availability, centred on the store
    the label hangs in (so "nearest" starts there), or on the shopper's city without one."""
    await catalog_service.get_product(session, product_id=product_id)
    target = f"/products/{product_id}"
    if store is not None:
        try:
            where = await merchants_service.get_store(session, store_id=store)
        except StoreNotFound:
            where = None
        if where is not None:
            target += f"?lat={where.lat}&lng={where.lng}"
    return redirect(request, target)
