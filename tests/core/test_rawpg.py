"""Plain SQL on asyncpg inside the session's transaction (``core.rawpg``), on PostgreSQL.

A statement sent straight to the driver must belong to the session's transaction: rolled
back with it, never committed on its own. And rows read that way must give the rules the
same values the ORM would have given them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, inspect, select

from o2o.catalog.models import Product, Variant
from o2o.core import rawpg
from o2o.core.db import Base, Database
from o2o.merchants.models import Merchant, Store
from o2o.orders import reads_pg
from o2o.regions.models import Region
from tests.conftest import create_pg_database, drop_pg_database
from tests.factories import stock
from tests.inventory.scene import make_shop

pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    url = await create_pg_database("o2o_rawpg")
    db = Database.from_url(url)
    try:
        yield db
    finally:
        await db.dispose()
        await drop_pg_database(url)


async def _regions(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Region)) or 0)


async def test_a_driver_statement_first_in_a_session_is_rolled_back_with_it(
    pg: Database,
) -> None:
    async with pg.session() as session:
        driver = await rawpg.driver(session)  # before any ORM statement: nothing begun yet
        await driver.execute(
            "INSERT INTO regions (code, name, name_zh, timezone, currency, center_lat,"
            " center_lng, min_lat, min_lng, max_lat, max_lng, is_active)"
            " VALUES ('zz', 'Z', 'Z', 'UTC', 'CNY', 0, 0, 0, 0, 1, 1, true)"
        )
        await session.rollback()
    assert await _regions(pg) == 0


async def test_driver_statements_commit_with_the_session(pg: Database) -> None:
    async with pg.session() as session:
        driver = await rawpg.driver(session)
        await driver.execute(
            "INSERT INTO regions (code, name, name_zh, timezone, currency, center_lat,"
            " center_lng, min_lat, min_lng, max_lat, max_lng, is_active)"
            " VALUES ('zz', 'Z', 'Z', 'UTC', 'CNY', 0, 0, 0, 0, 1, 1, true)"
        )
        await session.commit()
    assert await _regions(pg) == 1


def _values(instance: Base) -> dict[str, Any]:
    mapper = inspect(type(instance))
    return {attr.key: getattr(instance, attr.key) for attr in mapper.column_attrs}


async def test_rows_read_in_plain_sql_equal_the_orm_entities(pg: Database) -> None:
    async with pg.session() as session:
        shop = await make_shop(session, sizes=("S", "M"))
        kept, unkept = shop.variants
        await stock(session, store=shop.store, variant_id=kept.id, qty=3)
        await session.commit()
        ids = [shop.store.id, shop.merchant.id, shop.region.id, kept.id, unkept.id]
    async with pg.session() as session:
        read = await reads_pg.store_with_items(session, ids[0], [ids[3], ids[4], 10**9])
        assert read is not None
        store, merchant, region, items = read
        assert _values(store) == _values(await session.get_one(Store, ids[0]))
        assert _values(merchant) == _values(await session.get_one(Merchant, ids[1]))
        assert _values(region) == _values(await session.get_one(Region, ids[2]))
        by_id = {variant.id: (variant, product, here) for variant, product, here in items}
        assert set(by_id) == {ids[3], ids[4]}  # the unknown id is simply absent
        for variant_id, here in ((ids[3], True), (ids[4], False)):
            variant, product, kept_here = by_id[variant_id]
            assert kept_here is here
            assert _values(variant) == _values(await session.get_one(Variant, variant_id))
            assert _values(product) == _values(await session.get_one(Product, variant.product_id))
        assert await reads_pg.store_with_items(session, 10**9, [ids[3]]) is None
