"""Read side of stock: nearby stores that have a variant, a product's availability map,
a store's stock grid and ledger, and the ledger check."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog.models import Product, Variant
from o2o.core.clock import utcnow
from o2o.core.db import between_any, session_connection
from o2o.core.pagination import Page
from o2o.geo import knn, pg
from o2o.geo.sql import (
    cell_range_values,
    driver_fetch,
    driver_probe,
    statement_key,
)
from o2o.inventory import nearby_sql
from o2o.inventory.models import StockLevel, StockMovement
from o2o.inventory.schemas import StockRow
from o2o.merchants import queries as store_queries
from o2o.merchants.schemas import NearbyStoreRead


async def nearby_with_stock(
    session: AsyncSession,
    *,
    lat: float,
    lng: float,
    radius_m: float,
    variant_id: int,
    min_qty: int = 1,
    limit: int = 20,
    cursor: str | None = None,
    filters: store_queries.StoreFilters | None = None,
    at: datetime | None = None,
) -> Page[NearbyStoreRead]:
    """Stores near a point with at least ``min_qty`` of the variant available, nearest first."""
    at = at or utcnow()
    hits, more = await stock_hits(
        session,
        lat=lat,
        lng=lng,
        radius_m=radius_m,
        variant_id=variant_id,
        min_qty=min_qty,
        limit=limit,
        after=store_queries.decode_distance_cursor(cursor),
        filters=filters,
        at=at,
    )
    quantities = {h.id: int(h.payload) for h in hits}
    return await store_queries.page_of_hits(session, hits, more, at=at, quantities=quantities)


async def stock_hits(
    session: AsyncSession,
    *,
    lat: float,
    lng: float,
    radius_m: float,
    variant_id: int,
    min_qty: int = 1,
    limit: int = 20,
    after: tuple[float, int] | None = None,
    filters: store_queries.StoreFilters | None = None,
    at: datetime | None = None,
) -> tuple[list[knn.Hit], bool]:
    """The search behind ``nearby_with_stock``: store ids, distances and available quantity
    (the payload), nearest first, and whether more exist."""
    store_queries.check_search_area(lat, lng, radius_m)
    filters = filters or store_queries.StoreFilters()
    extra = await store_queries.sql_conditions(session, filters)
    conn = await session_connection(session)
    dialect = conn.dialect.name
    # Rare: other store filters are checked on the few stores found, in a second query.
    accept = store_queries.store_accept(
        session, extra, open_now=filters.open_now, at=at or utcnow()
    )
    if dialect == "postgresql":
        return await pg.nearest(
            conn,
            nearby_sql.pg_available(),
            lat=lat,
            lng=lng,
            radius_m=radius_m,
            limit=limit,
            values={"variant_id": variant_id, "min_qty": min_qty},
            payload=pg.first_payload,
            after=after,
            accept=accept,
        )

    async def fetch(ranges: knn.Ranges) -> Iterable[knn.Row]:
        stmt = nearby_sql.available_in(*statement_key(dialect, ranges))
        values = cell_range_values(dialect, ranges)
        values.update(variant_id=variant_id, min_qty=min_qty)
        rows: Iterable[knn.Row] = await driver_fetch(conn, stmt, values)
        return rows

    return await knn.nearest(
        lat=lat,
        lng=lng,
        radius_m=radius_m,
        limit=limit,
        fetch=fetch,
        accept=accept,
        after=after,
        probe=driver_probe(
            conn, nearby_sql.available_probe, {"variant_id": variant_id, "min_qty": min_qty}
        ),
    )


@dataclass(frozen=True)
class StoreStock:
    store_id: int
    distance_m: float
    quantities: dict[int, int]  # variant id -> available


async def product_availability(
    session: AsyncSession,
    *,
    lat: float,
    lng: float,
    radius_m: float,
    variant_ids: list[int],
    limit: int = 50,
) -> list[StoreStock]:
    """Every listed variant's availability at the nearest stores stocking any of them."""
    store_queries.check_search_area(lat, lng, radius_m)
    if not variant_ids:
        return []
    conn = await session_connection(session)
    if conn.dialect.name == "postgresql":
        hits, _more = await pg.nearest(
            conn,
            nearby_sql.pg_any_of(),
            lat=lat,
            lng=lng,
            radius_m=radius_m,
            limit=limit,
            values={"variant_ids": variant_ids},
            payload=nearby_sql.quantities,
        )
        return [StoreStock(h.id, h.distance_m, h.payload) for h in hits]

    async def fetch(ranges: knn.Ranges) -> Iterable[knn.Row]:
        rows = await session.execute(
            select(
                StockLevel.store_id,
                StockLevel.lat,
                StockLevel.lng,
                StockLevel.variant_id,
                StockLevel.available,
            ).where(
                StockLevel.variant_id.in_(variant_ids),
                StockLevel.store_active.is_(True),
                between_any(StockLevel.cell, ranges),
            )
        )
        per_store: dict[int, tuple[float, float, dict[int, int]]] = {}
        for store_id, la, ln, vid, available in rows:
            per_store.setdefault(store_id, (la, ln, {}))[2][vid] = available
        return [(sid, la, ln, q) for sid, (la, ln, q) in per_store.items()]

    hits, _more = await knn.nearest(
        lat=lat,
        lng=lng,
        radius_m=radius_m,
        limit=limit,
        fetch=fetch,
    )
    return [StoreStock(h.id, h.distance_m, dict(h.payload)) for h in hits]


def product_ids_in_stock_at(store_id: int) -> Select[int]:
    """Subquery: products with at least one unit available at the store."""
    return (
        select(Variant.product_id)
        .join(StockLevel, StockLevel.variant_id == Variant.id)
        .where(StockLevel.store_id == store_id, StockLevel.available > 0)
        .distinct()
    )


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def stock_grid(
    session: AsyncSession,
    *,
    store_id: int,
    merchant_id: int,
    q: str | None = None,
    after_variant_id: int | None = None,
    limit: int = 50,
) -> list[StockRow]:
    """Every variant of the merchant with its stock at the store (zero where none), by id.

    Returns up to ``limit + 1`` rows so the caller can tell whether there is a next page.
    """
    query = (
        select(
            Variant,
            Product.title,
            Product.title_zh,
            func.coalesce(StockLevel.on_hand, 0),
            func.coalesce(StockLevel.reserved, 0),
            func.coalesce(StockLevel.available, 0),
        )
        .join(Product, Product.id == Variant.product_id)
        .outerjoin(
            StockLevel,
            and_(StockLevel.variant_id == Variant.id, StockLevel.store_id == store_id),
        )
        .where(Variant.merchant_id == merchant_id)
        .order_by(Variant.id)
        .limit(limit + 1)
    )
    if after_variant_id is not None:
        query = query.where(Variant.id > after_variant_id)
    if q and q.strip():
        pattern = _like(q.strip())
        query = query.where(
            or_(
                Variant.sku.ilike(pattern, escape="\\"),
                Variant.barcode.ilike(pattern, escape="\\"),
                Product.title.ilike(pattern, escape="\\"),
                Product.title_zh.like(pattern, escape="\\"),
            )
        )
    return [
        StockRow(
            variant_id=v.id,
            product_id=v.product_id,
            sku=v.sku,
            barcode=v.barcode,
            title=title,
            title_zh=title_zh,
            attributes=v.attributes or {},
            on_hand=on_hand,
            reserved=reserved,
            available=available,
        )
        for v, title, title_zh, on_hand, reserved, available in await session.execute(query)
    ]


async def movements(
    session: AsyncSession,
    *,
    store_id: int,
    variant_id: int,
    before_id: int | None = None,
    limit: int = 50,
) -> list[StockMovement]:
    """The ledger of one stock row, newest first; up to ``limit + 1`` rows."""
    query = (
        select(StockMovement)
        .where(StockMovement.store_id == store_id, StockMovement.variant_id == variant_id)
        .order_by(StockMovement.id.desc())
        .limit(limit + 1)
    )
    if before_id is not None:
        query = query.where(StockMovement.id < before_id)
    return list(await session.scalars(query))


@dataclass(frozen=True)
class LedgerDiscrepancy:
    store_id: int
    variant_id: int
    on_hand: int | None  # None: movements without a stock row
    ledger_sum: int
    last_on_hand_after: int | None


async def ledger_discrepancies(session: AsyncSession) -> list[LedgerDiscrepancy]:
    """Stock rows whose on hand is not the sum of their movements, or not what the latest
    movement says it became; and movements with no stock row at all."""
    sums = (
        select(
            StockMovement.store_id,
            StockMovement.variant_id,
            func.sum(StockMovement.qty_delta).label("total"),
            func.max(StockMovement.id).label("last_id"),
        )
        .group_by(StockMovement.store_id, StockMovement.variant_id)
        .subquery()
    )
    total = func.coalesce(sums.c.total, 0)
    same_row = and_(
        sums.c.store_id == StockLevel.store_id, sums.c.variant_id == StockLevel.variant_id
    )
    rows = await session.execute(
        select(
            StockLevel.store_id,
            StockLevel.variant_id,
            StockLevel.on_hand,
            total,
            StockMovement.on_hand_after,
        )
        .outerjoin(sums, same_row)
        .outerjoin(StockMovement, StockMovement.id == sums.c.last_id)
        .where(
            or_(
                total != StockLevel.on_hand,
                and_(
                    StockMovement.id.is_not(None), StockMovement.on_hand_after != StockLevel.on_hand
                ),
            )
        )
        .order_by(StockLevel.store_id, StockLevel.variant_id)
    )
    found = [LedgerDiscrepancy(s, v, o, int(t), a) for s, v, o, t, a in rows]
    orphans = await session.execute(
        select(sums.c.store_id, sums.c.variant_id, sums.c.total)
        .outerjoin(StockLevel, same_row)
        .where(StockLevel.id.is_(None))
    )
    found.extend(LedgerDiscrepancy(s, v, None, int(t), None) for s, v, t in orphans)
    return found


async def available_at(
    session: AsyncSession, *, variant_ids: list[int], store_ids: list[int]
) -> dict[int, dict[int, int]]:
    """``{store: {variant: available}}`` for these stores and variants (positive only)."""
    if not variant_ids or not store_ids:
        return {}
    rows = await session.execute(
        select(StockLevel.store_id, StockLevel.variant_id, StockLevel.available).where(
            StockLevel.variant_id.in_(set(variant_ids)),
            StockLevel.store_id.in_(set(store_ids)),
            StockLevel.available > 0,
        )
    )
    out: dict[int, dict[int, int]] = {}
    for store_id, variant_id, available in rows:
        out.setdefault(store_id, {})[variant_id] = available
    return out


async def stocked_variants(
    session: AsyncSession, *, store_id: int, variant_ids: list[int]
) -> set[int]:
    """Which of these variants the store keeps a stock row for (sells at all)."""
    if not variant_ids:
        return set()
    rows = await session.scalars(
        select(StockLevel.variant_id).where(
            StockLevel.store_id == store_id, StockLevel.variant_id.in_(set(variant_ids))
        )
    )
    return set(rows)
