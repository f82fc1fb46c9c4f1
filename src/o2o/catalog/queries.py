"""Read models of the catalog: product pages and list rows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog import service as catalog_service
from o2o.catalog.models import Product, Variant
from o2o.catalog.schemas import PhotoRead, ProductRead, ProductSummary, VariantRead
from o2o.core.storage import Storage
from o2o.merchants.models import Category


def attribute_options(variants: list[Variant]) -> dict[str, list[str]]:
    """Each attribute's values in the order the variants list them (S before M before L)."""
    options: dict[str, dict[str, None]] = {}
    for variant in variants:
        if variant.is_active:
            for key, value in variant.attributes.items():
                options.setdefault(key, {}).setdefault(value, None)
    return {key: list(values) for key, values in options.items()}


async def _category_codes(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Category.id, Category.code).where(Category.id.in_(ids)))
    return {cid: code for cid, code in rows.all()}  # noqa: C416 (rows, not pairs)


async def product_read(session: AsyncSession, product: Product, *, storage: Storage) -> ProductRead:
    variants = await catalog_service.variants_of(session, product.id)
    photos = (await catalog_service.photos_of(session, [product.id]))[product.id]
    codes = await _category_codes(session, {product.category_id} if product.category_id else set())
    prices = [v.price for v in variants if v.is_active]
    return ProductRead(
        id=product.id,
        merchant_id=product.merchant_id,
        title=product.title,
        title_zh=product.title_zh,
        description=product.description,
        description_zh=product.description_zh,
        brand=product.brand,
        category=codes.get(product.category_id) if product.category_id else None,
        currency=product.currency,
        price_min=min(prices) if prices else None,
        price_max=max(prices) if prices else None,
        attribute_options=attribute_options(variants),
        photos=[PhotoRead(id=p.id, url=storage.url(p.storage_key)) for p in photos],
        variants=[VariantRead.model_validate(v) for v in variants],
    )


async def product_summaries(
    session: AsyncSession, products: list[Product], *, storage: Storage
) -> list[ProductSummary]:
    """List rows for many products in three queries, whatever their number."""
    ids = [p.id for p in products]
    prices: dict[int, list[int]] = {pid: [] for pid in ids}
    if ids:
        rows = await session.execute(
            select(Variant.product_id, Variant.price).where(
                Variant.product_id.in_(ids), Variant.is_active.is_(True)
            )
        )
        for pid, price in rows.all():
            prices[pid].append(price)
    photos = await catalog_service.photos_of(session, ids)
    codes = await _category_codes(session, {p.category_id for p in products if p.category_id})
    return [
        ProductSummary(
            id=p.id,
            merchant_id=p.merchant_id,
            title=p.title,
            title_zh=p.title_zh,
            brand=p.brand,
            category=codes.get(p.category_id) if p.category_id else None,
            currency=p.currency,
            price_min=min(prices[p.id]) if prices[p.id] else None,
            price_max=max(prices[p.id]) if prices[p.id] else None,
            photo_url=storage.url(photos[p.id][0].storage_key) if photos[p.id] else None,
        )
        for p in products
    ]
