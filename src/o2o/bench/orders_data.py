"""The orders benchmark's database: created fresh, migrated, seeded, dropped afterwards.

The few rows a shopper meets (region, merchant, stores, products) go through the domain
services, so they are exactly what the app would create. The bulk (buyers' accounts and
tokens, the O2 stock grid and its ledger rows) is inserted set-wise: one ``INSERT … SELECT``
instead of 100k service calls, with a restock movement per level so that the ledger
reconciles from the start. Everything is deterministic for a given shape.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import AccessToken, TokenKind, User
from o2o.catalog import service as catalog_service
from o2o.catalog.models import Variant
from o2o.catalog.schemas import ProductCreate, VariantCreate
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.core.migrate import upgrade
from o2o.inventory import service as inventory_service
from o2o.inventory.models import MovementKind, StockLevel
from o2o.merchants import service as merchants_service
from o2o.merchants.models import Store
from o2o.merchants.schemas import Fulfilment, StoreCreate
from o2o.regions import service as regions_service
from o2o.regions.schemas import Bounds, LatLng, RegionCreate

ALL_DAY = [[[0, 1440]] for _ in range(7)]  # pickup windows exist whatever the hour
PRICE = 9_900
TOKEN_TTL = timedelta(days=1)


def admin_to_url(admin_dsn: str, dbname: str, *, driver: str = "") -> str:
    """The DSN of database ``dbname`` on the server of ``admin_dsn`` (for SQLAlchemy: driver)."""
    base = admin_dsn.rsplit("/", 1)[0]
    if driver:
        base = base.replace("postgresql://", f"postgresql+{driver}://", 1)
    return f"{base}/{dbname}"


class BenchDatabase:
    """A throw-away PostgreSQL database: ``async with BenchDatabase(dsn) as db: …``."""

    def __init__(self, admin_dsn: str, prefix: str = "o2o_bench_orders") -> None:
        self.admin_dsn = admin_dsn
        self.name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        self.dsn = admin_to_url(admin_dsn, self.name)
        self.url = admin_to_url(admin_dsn, self.name, driver="asyncpg")

    async def __aenter__(self) -> BenchDatabase:
        conn = await asyncpg.connect(self.admin_dsn, timeout=5)
        try:
            await conn.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await conn.close()
        await asyncio.to_thread(upgrade, self.url)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        conn = await asyncpg.connect(self.admin_dsn, timeout=5)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await conn.close()


@dataclass(frozen=True)
class Shop:
    """What the buyers need to know: where to order, what, and as whom."""

    region_id: int
    merchant_id: int
    store_ids: list[int]
    variant_ids: list[int]
    product_ids: list[int]
    tokens: list[str]
    shopper_ids: list[int]


async def _catalog(
    session: AsyncSession, *, merchant_id: int, products: int, sizes: int
) -> tuple[list[int], list[int]]:
    variant_ids: list[int] = []
    product_ids: list[int] = []
    for p in range(products):
        product = await catalog_service.create_product(
            session,
            merchant_id=merchant_id,
            data=ProductCreate(
                title=f"Bench item {p + 1}",
                title_zh=f"测试商品{p + 1}",
                variants=[
                    VariantCreate(
                        sku=f"B{p + 1}-{s + 1}", attributes={"size": str(s + 1)}, price=PRICE
                    )
                    for s in range(sizes)
                ],
            ),
        )
        product_ids.append(product.id)
        variant_ids += [v.id for v in await catalog_service.variants_of(session, product.id)]
    return product_ids, variant_ids


async def add_buyers(
    session: AsyncSession, count: int, *, tag: str = "b"
) -> tuple[list[int], list[str]]:
    """``count`` shoppers with an API token each. No password (hash ``!`` matches none): the
    benchmark authenticates with tokens only, and argon2 would take a minute per thousand."""
    result = await session.execute(
        insert(User).returning(User.id),
        [{"email": f"{tag}{i}@bench.test", "display_name": f"Buyer {i}", "password_hash": "!"}
         for i in range(count)],
    )  # fmt: skip
    ids = sorted(result.scalars())
    tokens = [f"bench_{tag}_{i}_{uuid.uuid4().hex}" for i in range(count)]
    expires = utcnow() + TOKEN_TTL
    await session.execute(
        insert(AccessToken),
        [{"user_id": u, "kind": TokenKind.API, "expires_at": expires,
          "token_hash": hashlib.sha256(t.encode()).hexdigest()}
         for u, t in zip(ids, tokens, strict=True)],
    )  # fmt: skip
    return ids, tokens


async def seed(
    db: Database,
    *,
    stores: int = 1,
    products: int = 1,
    sizes: int = 1,
    buyers: int = 1_000,
    on_hand: int = 100,
) -> Shop:
    """One merchant with ``stores`` stores (pickup, open all day), ``products × sizes``
    variants stocked ``on_hand`` at every store, and ``buyers`` shoppers with tokens."""
    async with db.session() as session:
        region = await regions_service.create_region(
            session,
            data=RegionCreate(
                code="bench", name="Bench City", name_zh="测试城", timezone="Asia/Shanghai",
                center=LatLng(lat=31.23, lng=121.47),
                bounds=Bounds(min_lat=30.0, min_lng=120.0, max_lat=32.5, max_lng=123.0),
            ),
        )  # fmt: skip
        merchant = await merchants_service.create_merchant(session, name="Bench", name_zh="测试")
        store_ids: list[int] = []
        for s in range(stores):
            store = await merchants_service.create_store(
                session,
                merchant_id=merchant.id,
                data=StoreCreate(
                    region=region.code, name=f"Bench store {s + 1}", name_zh=f"测试店{s + 1}",
                    lat=31.0 + (s % 50) * 0.02, lng=121.0 + (s // 50) * 0.02,
                    opening_hours=ALL_DAY, fulfilment=Fulfilment(pickup=True),
                ),
            )  # fmt: skip
            store_ids.append(store.id)
        product_ids, variant_ids = await _catalog(
            session, merchant_id=merchant.id, products=products, sizes=sizes
        )
        await stock_grid(session, store_ids=store_ids, variant_ids=variant_ids, on_hand=on_hand)
        shopper_ids, tokens = await add_buyers(session, buyers)
        await session.commit()
    return Shop(region.id, merchant.id, store_ids, variant_ids, product_ids, tokens, shopper_ids)


async def stock_grid(
    session: AsyncSession, *, store_ids: list[int], variant_ids: list[int], on_hand: int
) -> None:
    """Every variant at every store, ``on_hand`` each, with its restock in the ledger.

    One store's level goes through ``inventory_service.set_on_hand`` (the real path, which
    also fills the copied store columns); the rest are copied set-wise from the stores."""
    first = await session.get(Store, store_ids[0])
    if first is None:
        raise LookupError(f"store {store_ids[0]} vanished while seeding")
    for variant_id in variant_ids[:1]:
        await inventory_service.set_on_hand(
            session, store=first, variant_id=variant_id, on_hand=on_hand, kind=MovementKind.RESTOCK
        )
    params = {"stores": store_ids, "variants": variant_ids, "qty": on_hand,
              "first_store": store_ids[0], "first_variant": variant_ids[0]}  # fmt: skip
    await session.execute(
        text("""
        INSERT INTO stock_levels (store_id, variant_id, region_id, cell, lat, lng, store_active,
                                  on_hand, reserved, updated_at)
        SELECT s.id, v.id, s.region_id, s.cell, s.lat, s.lng, s.is_active, :qty, 0, now()
        FROM stores s CROSS JOIN variants v
        WHERE s.id = ANY(:stores) AND v.id = ANY(:variants)
          AND NOT (s.id = :first_store AND v.id = :first_variant)
        ORDER BY s.id, v.id
        """),
        params,
    )
    await session.execute(
        text("""
        INSERT INTO stock_movements (store_id, variant_id, region_id, kind, qty_delta,
                                     on_hand_after, reference, note, created_at)
        SELECT store_id, variant_id, region_id, :kind, on_hand, on_hand, '', 'bench seed', now()
        FROM stock_levels
        WHERE store_id = ANY(:stores) AND variant_id = ANY(:variants)
          AND NOT (store_id = :first_store AND variant_id = :first_variant)
        ORDER BY id
        """),
        {**params, "kind": MovementKind.RESTOCK.value},
    )
    await session.execute(text("ANALYZE stock_levels"))


async def add_variant(db: Database, shop: Shop, *, on_hand: int, label: str) -> int:
    """A fresh variant stocked ``on_hand`` at the shop's first store: each randomized flash
    sale gets a level of its own, so runs cannot disturb each other's counts."""
    async with db.session() as session:
        product = await catalog_service.create_product(
            session,
            merchant_id=shop.merchant_id,
            data=ProductCreate(
                title=f"Flash item {label}", title_zh=f"秒杀{label}",
                variants=[VariantCreate(sku=f"F-{label}", price=PRICE)],
            ),
        )  # fmt: skip
        variant = await session.scalar(select(Variant).where(Variant.product_id == product.id))
        store = await session.get(Store, shop.store_ids[0])
        if variant is None or store is None:
            raise LookupError("the flash item or the store vanished while seeding")
        await inventory_service.set_on_hand(
            session, store=store, variant_id=variant.id, on_hand=on_hand, kind=MovementKind.RESTOCK
        )
        await session.commit()
        return variant.id


async def level_count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(StockLevel)) or 0)
