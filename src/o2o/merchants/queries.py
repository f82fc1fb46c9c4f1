"""Read models of stores: cards with merchant, category and open-now, and nearby search."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.db import session_connection
from o2o.core.errors import InvalidInput
from o2o.core.pagination import Page, decode_cursor, encode_cursor
from o2o.core.text import like_pattern, query_terms
from o2o.geo import knn, pg
from o2o.geo.distance import valid_position
from o2o.geo.sql import (
    cell_range_values,
    driver_fetch,
    driver_probe,
    statement_key,
)
from o2o.merchants import hours, nearby_sql
from o2o.merchants.models import Category, Merchant, Store
from o2o.merchants.schemas import Fulfilment, NearbyStoreRead, StoreRead
from o2o.merchants.service import category_ids
from o2o.regions.models import Region

MAX_RADIUS_M = 50_000


@dataclass(frozen=True)
class StoreFilters:
    """What a nearby search may filter on besides distance."""

    category: str | None = None
    q: str | None = None
    open_now: bool = False


async def store_cards(
    session: AsyncSession, store_ids: Sequence[int], *, at: datetime | None = None
) -> dict[int, StoreRead]:
    """Full store cards for the given ids, in one query."""
    if not store_ids:
        return {}
    at = at or utcnow()
    rows = await session.execute(
        select(Store, Merchant.name, Merchant.name_zh, Category.code, Region.timezone)
        .join(Merchant, Merchant.id == Store.merchant_id)
        .join(Region, Region.id == Store.region_id)
        .outerjoin(Category, Category.id == Store.category_id)
        .where(Store.id.in_(store_ids))
    )
    cards: dict[int, StoreRead] = {}
    for store, m_name, m_name_zh, cat, tz in rows:
        cards[store.id] = to_read(store, merchant=(m_name, m_name_zh), category=cat, tz=tz, at=at)
    return cards


def to_read(
    store: Store, *, merchant: tuple[str, str], category: str | None, tz: str, at: datetime
) -> StoreRead:
    return StoreRead(
        id=store.id,
        merchant_id=store.merchant_id,
        region_id=store.region_id,
        name=store.name,
        name_zh=store.name_zh,
        address=store.address,
        address_zh=store.address_zh,
        phone=store.phone,
        lat=store.lat,
        lng=store.lng,
        category=category,
        opening_hours=store.opening_hours,
        hours_exceptions=store.hours_exceptions,
        fulfilment=Fulfilment(
            pickup=store.offers_pickup,
            reserve=store.offers_reserve,
            delivery=store.offers_delivery,
            shipping=store.offers_shipping,
            booking=store.offers_booking,
            scan_go=store.offers_scan_go,
        ),
        delivery_radius_m=store.delivery_radius_m,
        rating=round(store.rating_sum / store.rating_count, 1) if store.rating_count else None,
        rating_count=store.rating_count,
        open_now=hours.is_open_at(
            at, timezone=tz, week=store.opening_hours, exceptions=store.hours_exceptions
        ),
        merchant_name=merchant[0],
        merchant_name_zh=merchant[1],
    )


def check_search_area(lat: float, lng: float, radius_m: float) -> None:
    if not valid_position(lat, lng):
        raise InvalidInput("lat must be in -90..90 and lng in -180..180.", field="lat")
    if not 0 <= radius_m <= MAX_RADIUS_M:
        raise InvalidInput(f"radius_m must be in 0..{MAX_RADIUS_M}.", field="radius_m")


def decode_distance_cursor(cursor: str | None) -> tuple[float, int] | None:
    values = decode_cursor(cursor, arity=2)
    if values is None:
        return None
    return float(values[0]), int(values[1])


@dataclass(frozen=True)
class FilterValues:
    """The values of the filters SQL decides: category ids and LIKE patterns of the text."""

    categories: list[int] | None
    patterns: list[str] | None


async def filter_values(session: AsyncSession, filters: StoreFilters) -> FilterValues:
    categories = None
    if filters.category:
        categories = await category_ids(session, code=filters.category)
    patterns = None
    if filters.q:
        terms = query_terms(filters.q)
        if not terms:
            raise InvalidInput("The search text has no searchable words.", field="q")
        patterns = [like_pattern(t) for t in terms]
    return FilterValues(categories, patterns)


def conditions_of(values: FilterValues) -> list[Any]:
    """Conditions on ``Store`` for the filter values."""
    conditions: list[Any] = []
    if values.categories is not None:
        conditions.append(Store.category_id.in_(values.categories))
    for pattern in values.patterns or ():
        conditions.append(Store.search_text.like(pattern, escape="\\"))
    return conditions


async def sql_conditions(session: AsyncSession, filters: StoreFilters) -> list[Any]:
    """Conditions on ``Store`` for the filters SQL decides (all but open-now), beyond active."""
    return conditions_of(await filter_values(session, filters))


def store_accept(
    session: AsyncSession, conditions: list[Any], *, open_now: bool, at: datetime
) -> knn.Accept | None:
    """An ``accept`` callback for knn.nearest: stores passing ``conditions`` and, with
    ``open_now``, open at ``at`` in their region's time. None when there is nothing to check."""
    if not conditions and not open_now:
        return None

    async def accept(ids: list[int]) -> set[int]:
        rows = await session.execute(
            select(Store.id, Store.opening_hours, Store.hours_exceptions, Region.timezone)
            .join(Region, Region.id == Store.region_id)
            .where(Store.id.in_(ids), *conditions)
        )
        return {
            sid
            for sid, week, exc, tz in rows
            if not open_now or hours.is_open_at(at, timezone=tz, week=week, exceptions=exc)
        }

    return accept


async def nearby_stores(
    session: AsyncSession,
    *,
    lat: float,
    lng: float,
    radius_m: float,
    limit: int,
    cursor: str | None = None,
    filters: StoreFilters | None = None,
    at: datetime | None = None,
) -> Page[NearbyStoreRead]:
    """Stores within ``radius_m`` of a point, nearest first, with the filters applied."""
    at = at or utcnow()
    hits, more = await nearby_store_hits(
        session,
        lat=lat,
        lng=lng,
        radius_m=radius_m,
        limit=limit,
        after=decode_distance_cursor(cursor),
        filters=filters,
        at=at,
    )
    return await page_of_hits(session, hits, more, at=at)


async def nearby_store_hits(
    session: AsyncSession,
    *,
    lat: float,
    lng: float,
    radius_m: float,
    limit: int,
    after: tuple[float, int] | None = None,
    filters: StoreFilters | None = None,
    at: datetime | None = None,
) -> tuple[list[knn.Hit], bool]:
    """The search behind ``nearby_stores``: ids and distances, nearest first, and whether more
    exist (the cards are built separately, so callers that need only ids skip them)."""
    check_search_area(lat, lng, radius_m)
    filters = filters or StoreFilters()
    chosen = await filter_values(session, filters)
    # Core statements on the session's connection: the ORM adds nothing to four columns.
    conn = await session_connection(session)
    dialect = conn.dialect.name
    accept = store_accept(session, [], open_now=filters.open_now, at=at or utcnow())
    if dialect == "postgresql":
        return await pg.nearest(
            conn,
            nearby_sql.pg_stores(chosen.categories is not None, chosen.patterns is not None),
            lat=lat,
            lng=lng,
            radius_m=radius_m,
            limit=limit,
            values={"cats": chosen.categories, "terms": chosen.patterns},
            payload=pg.ids_payload,
            after=after,
            accept=accept,
        )
    extra = conditions_of(chosen)

    async def fetch(ranges: knn.Ranges) -> Iterable[knn.Row]:
        key = statement_key(dialect, ranges)
        values = cell_range_values(dialect, ranges)
        if extra:
            return (await conn.execute(nearby_sql.stores_in(*key, tuple(extra)), values)).all()
        rows: Iterable[knn.Row] = await driver_fetch(
            conn, nearby_sql.active_stores_in(*key), values
        )
        return rows

    return await knn.nearest(
        lat=lat,
        lng=lng,
        radius_m=radius_m,
        limit=limit,
        fetch=fetch,
        accept=accept,
        probe=None if extra else driver_probe(conn, nearby_sql.active_stores_probe),
        after=after,
    )


async def page_of_hits(
    session: AsyncSession,
    hits: list[knn.Hit],
    more: bool,
    *,
    at: datetime,
    quantities: dict[int, int] | None = None,
) -> Page[NearbyStoreRead]:
    cards = await store_cards(session, [h.id for h in hits], at=at)
    items = [
        NearbyStoreRead(
            **cards[h.id].model_dump(),
            distance_m=round(h.distance_m, 1),
            available_qty=None if quantities is None else quantities.get(h.id),
        )
        for h in hits
    ]
    last = hits[-1] if hits else None
    next_cursor = encode_cursor([last.distance_m, last.id]) if more and last else None
    return Page(items=items, next_cursor=next_cursor)
