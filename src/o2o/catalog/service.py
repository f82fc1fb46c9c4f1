"""Catalog use cases: products with variants, photos, search, lookup by code."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog.exceptions import (
    AmbiguousCode,
    DuplicateSku,
    ProductNotFound,
    UnknownCode,
    VariantNotFound,
)
from o2o.catalog.models import Product, ProductPhoto, Variant
from o2o.catalog.photos import sniff_image
from o2o.catalog.schemas import ProductCreate, ProductUpdate, VariantCreate, VariantUpdate
from o2o.core.errors import InvalidInput
from o2o.core.storage import Storage
from o2o.core.text import like_pattern, query_terms, search_document
from o2o.merchants import service as merchants_service
from o2o.merchants.models import Category


async def _category(session: AsyncSession, code: str | None) -> Category | None:
    if code is None:
        return None
    ids = await merchants_service.category_ids(session, code=code)
    return await session.get(Category, ids[0])


def _document(product: Product, category: Category | None, variants: list[Variant]) -> str:
    attrs = " ".join(v for variant in variants for v in variant.attributes.values())
    skus = " ".join(v.sku for v in variants)
    return search_document(
        product.title,
        product.title_zh,
        product.brand,
        category.name if category else None,
        category.name_zh if category else None,
        attrs,
        skus,
    )


async def create_product(
    session: AsyncSession, *, merchant_id: int, data: ProductCreate
) -> Product:
    """A product and its variants; SKUs are unique within the merchant."""
    await merchants_service.get_merchant(session, merchant_id=merchant_id)
    category = await _category(session, data.category)
    skus = [v.sku for v in data.variants]
    if len(set(skus)) != len(skus):
        raise DuplicateSku("Each variant needs its own SKU.", field="variants")
    taken = await session.scalar(
        select(Variant.sku).where(Variant.merchant_id == merchant_id, Variant.sku.in_(skus))
    )
    if taken is not None:
        raise DuplicateSku(f"SKU '{taken}' is already used by another product.", field="variants")
    product = Product(
        merchant_id=merchant_id,
        category_id=category.id if category else None,
        title=data.title,
        title_zh=data.title_zh,
        description=data.description,
        description_zh=data.description_zh,
        brand=data.brand,
        currency=data.currency,
    )
    session.add(product)
    await session.flush()
    variants = [_new_variant(product, v, position=i) for i, v in enumerate(data.variants)]
    session.add_all(variants)
    product.search_text = _document(product, category, variants)
    await session.flush()
    return product


def _new_variant(product: Product, data: VariantCreate, *, position: int) -> Variant:
    return Variant(
        product_id=product.id,
        merchant_id=product.merchant_id,
        sku=data.sku,
        barcode=data.barcode,
        attributes=data.attributes,
        price=data.price,
        position=position,
    )


async def add_variant(session: AsyncSession, *, product_id: int, data: VariantCreate) -> Variant:
    product = await get_product(session, product_id=product_id)
    taken = await session.scalar(
        select(Variant.id).where(
            Variant.merchant_id == product.merchant_id, Variant.sku == data.sku
        )
    )
    if taken is not None:
        raise DuplicateSku(f"SKU '{data.sku}' is already used.", field="sku")
    count = await session.scalar(
        select(func.count(Variant.id)).where(Variant.product_id == product.id)
    )
    variant = _new_variant(product, data, position=int(count or 0))
    session.add(variant)
    await session.flush()
    await _reindex(session, product)
    return variant


async def update_product(session: AsyncSession, *, product_id: int, data: ProductUpdate) -> Product:
    product = await get_product(session, product_id=product_id)
    changes = data.model_dump(exclude_unset=True)
    for name in ("title", "title_zh", "description", "description_zh", "brand", "is_active"):
        if changes.get(name) is not None:
            setattr(product, name, changes[name])
    if "category" in changes:
        category = await _category(session, data.category)
        product.category_id = category.id if category else None
    await _reindex(session, product)
    return product


async def update_variant(session: AsyncSession, *, variant_id: int, data: VariantUpdate) -> Variant:
    variant = await get_variant(session, variant_id=variant_id)
    changes = data.model_dump(exclude_unset=True)
    for name in ("barcode", "price", "is_active"):
        if name in changes and (changes[name] is not None or name == "barcode"):
            setattr(variant, name, changes[name])
    await session.flush()
    return variant


async def _reindex(session: AsyncSession, product: Product) -> None:
    category = await session.get(Category, product.category_id) if product.category_id else None
    product.search_text = _document(product, category, await variants_of(session, product.id))
    await session.flush()


async def get_product(session: AsyncSession, *, product_id: int) -> Product:
    product = await session.get(Product, product_id)
    if product is None:
        raise ProductNotFound(f"No product with id {product_id}.")
    return product


async def get_variant(session: AsyncSession, *, variant_id: int) -> Variant:
    variant = await session.get(Variant, variant_id)
    if variant is None:
        raise VariantNotFound(f"No variant with id {variant_id}.")
    return variant


async def variants_of(session: AsyncSession, product_id: int) -> list[Variant]:
    rows = await session.scalars(
        select(Variant)
        .where(Variant.product_id == product_id)
        .order_by(Variant.position, Variant.id)
    )
    return list(rows)


async def photos_of(session: AsyncSession, product_ids: list[int]) -> dict[int, list[ProductPhoto]]:
    out: dict[int, list[ProductPhoto]] = {pid: [] for pid in product_ids}
    if not product_ids:
        return out
    rows = await session.scalars(
        select(ProductPhoto)
        .where(ProductPhoto.product_id.in_(product_ids))
        .order_by(ProductPhoto.position, ProductPhoto.id)
    )
    for photo in rows:
        out[photo.product_id].append(photo)
    return out


async def add_photo(
    session: AsyncSession, *, product_id: int, data: bytes, storage: Storage
) -> ProductPhoto:
    """Store an uploaded photo (JPEG, PNG, GIF, WebP; at most 5 MB) after the product's others."""
    product = await get_product(session, product_id=product_id)
    content_type, suffix = sniff_image(data)
    count = await session.scalar(
        select(func.count(ProductPhoto.id)).where(ProductPhoto.product_id == product.id)
    )
    if int(count or 0) >= 12:
        raise InvalidInput("A product has at most 12 photos.", field="file")
    key = storage.save(data, folder=f"products/{product.id}", suffix=suffix)
    photo = ProductPhoto(
        product_id=product.id, storage_key=key, content_type=content_type, position=int(count or 0)
    )
    session.add(photo)
    await session.flush()
    return photo


def search_products_query(
    *,
    merchant_id: int | None,
    product_ids: Select[int] | None,
    q: str | None,
    category_ids: list[int] | None,
    after_id: int | None,
    limit: int,
) -> Select[Product]:
    query = select(Product).where(Product.is_active.is_(True)).order_by(Product.id).limit(limit + 1)
    if merchant_id is not None:
        query = query.where(Product.merchant_id == merchant_id)
    if product_ids is not None:
        query = query.where(Product.id.in_(product_ids))
    if category_ids:
        query = query.where(Product.category_id.in_(category_ids))
    if q:
        terms = query_terms(q)
        if not terms:
            raise InvalidInput("The search text has no searchable words.", field="q")
        query = query.where(
            *(Product.search_text.like(like_pattern(t), escape="\\") for t in terms)
        )
    if after_id is not None:
        query = query.where(Product.id > after_id)
    return query


async def search_products(
    session: AsyncSession,
    *,
    merchant_id: int | None = None,
    q: str | None = None,
    category: str | None = None,
    product_ids: Select[int] | None = None,
    after_id: int | None = None,
    limit: int = 20,
) -> list[Product]:
    """Active products matching every filter, by id; ``limit + 1`` rows tell if more exist."""
    category_ids = (
        await merchants_service.category_ids(session, code=category) if category else None
    )
    query = search_products_query(
        merchant_id=merchant_id,
        product_ids=product_ids,
        q=q,
        category_ids=category_ids,
        after_id=after_id,
        limit=limit,
    )
    return list(await session.scalars(query))


async def variant_by_code(
    session: AsyncSession, *, code: str, merchant_id: int | None = None
) -> Variant:
    """The variant with this barcode (or, failing that, SKU). Scanning a label lands here."""
    for column in (Variant.barcode, Variant.sku):
        query = select(Variant).where(column == code, Variant.is_active.is_(True))
        if merchant_id is not None:
            query = query.where(Variant.merchant_id == merchant_id)
        found = list(await session.scalars(query.limit(2)))
        if len(found) > 1:
            raise AmbiguousCode(
                f"Several merchants sell '{code}'; pass merchant_id to choose.", field="merchant_id"
            )
        if found:
            return found[0]
    raise UnknownCode(f"No product has the code '{code}'.")
