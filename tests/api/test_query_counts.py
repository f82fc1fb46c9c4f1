"""List endpoints cost a fixed number of statements, whatever the page size (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from o2o.catalog import service as catalog_service
from tests.factories import make_merchant, make_product, make_region, make_store, stock
from tests.orders.scene import make_scene, place


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


async def _count(client: httpx.AsyncClient, engine: AsyncEngine, path: str, **params: Any) -> int:
    with counting(engine) as statements:
        r = await client.get(path, params=params)
        assert r.status_code == 200, r.text
    return len(statements)


async def test_store_and_product_lists_do_not_grow_with_the_page(
    client: httpx.AsyncClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    region = await make_region(session)
    merchant = await make_merchant(session)
    stores = [
        await make_store(
            session, merchant=merchant, region=region, lat=region.center_lat + i * 1e-4
        )
        for i in range(30)
    ]
    for _ in range(30):
        product = await make_product(session, merchant=merchant)
        variant = (await catalog_service.variants_of(session, product.id))[0]
        await stock(session, store=stores[0], variant_id=variant.id, qty=2)
    await session.commit()
    for path, extra in (
        ("/api/v1/stores", {"region": region.code}),
        ("/api/v1/products", {"merchant_id": merchant.id}),
        ("/api/v1/products", {"store_id": stores[0].id}),
    ):
        small = await _count(client, engine, path, limit=3, **extra)
        large = await _count(client, engine, path, limit=30, **extra)
        assert 0 < small == large, (path, small, large)


async def test_order_lists_do_not_grow_with_the_page(
    client: httpx.AsyncClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    scene = await make_scene(session, qty=50)
    for _ in range(12):
        placed = await place(client, scene, lines=[(scene.variants[0].id, 1)])
        assert placed.status_code == 201
    for path, headers in (
        ("/api/v1/me/orders", scene.shopper_headers),
        (f"/api/v1/stores/{scene.store.id}/orders", scene.clerk_headers),
    ):
        counts = []
        # a first request, so that both counted ones find the caller's token remembered
        assert (await client.get(path, headers=headers)).status_code == 200
        for limit in (2, 12):
            with counting(engine) as statements:
                r = await client.get(path, params={"limit": limit}, headers=headers)
                assert r.status_code == 200, r.text
                assert len(r.json()["items"]) == limit
            counts.append(len(statements))
        assert counts[0] == counts[1], (path, counts)
