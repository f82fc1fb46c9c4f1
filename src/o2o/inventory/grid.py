"""The stock grid of one store: every variant its merchant sells, with that store's levels."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog.models import Product, Variant
from o2o.core.errors import InvalidInput
from o2o.core.text import like_pattern, query_terms
from o2o.inventory.models import StockLevel
from o2o.merchants.models import Store


@dataclass(frozen=True)
class StockRow:
    variant_id: int
    product_id: int
    title: str
    title_zh: str
    sku: str
    barcode: str | None
    attributes: dict[str, str]
    on_hand: int
    reserved: int
    available: int


async def store_stock(
    session: AsyncSession,
    *,
    store: Store,
    q: str | None = None,
    after_variant_id: int | None = None,
    limit: int = 50,
    variant_ids: list[int] | None = None,
) -> tuple[list[StockRow], bool]:
    """Rows by variant id (keyset), ``q`` matching title words (zh/en), SKU or barcode.

    Variants never stocked at the store show as zero. Returns the rows and whether more follow.
    """
    query = (
        select(Variant, Product.title, Product.title_zh, StockLevel)
        .join(Product, Product.id == Variant.product_id)
        .outerjoin(
            StockLevel,
            and_(StockLevel.variant_id == Variant.id, StockLevel.store_id == store.id),
        )
        .where(Variant.merchant_id == store.merchant_id, Variant.is_active.is_(True))
        .order_by(Variant.id)
        .limit(limit + 1)
    )
    if q and q.strip():
        terms = query_terms(q)
        if not terms:
            raise InvalidInput("The search text has no searchable words.", field="q")
        code = q.strip()
        by_code = or_(
            Variant.barcode == code,
            func.lower(Variant.sku).like(like_pattern(code.lower()), escape="\\"),
        )
        # A query that is (part of) a SKU or a barcode means those variants, not every variant
        # of the products whose text happens to contain its pieces.
        coded = await session.scalar(
            select(Variant.id)
            .where(Variant.merchant_id == store.merchant_id, Variant.is_active.is_(True), by_code)
            .limit(1)
        )
        if coded is not None:
            query = query.where(by_code)
        else:
            query = query.where(
                *(Product.search_text.like(like_pattern(t), escape="\\") for t in terms)
            )
    if variant_ids is not None:
        query = query.where(Variant.id.in_(variant_ids))
    if after_variant_id is not None:
        query = query.where(Variant.id > after_variant_id)
    rows = [
        StockRow(
            variant_id=v.id,
            product_id=v.product_id,
            title=title,
            title_zh=title_zh,
            sku=v.sku,
            barcode=v.barcode,
            attributes=dict(v.attributes),
            on_hand=level.on_hand if level else 0,
            reserved=level.reserved if level else 0,
            available=level.available if level else 0,
        )
        for v, title, title_zh, level in await session.execute(query)
    ]
    return rows[:limit], len(rows) > limit
