"""Stock invariants under real concurrency: PostgreSQL, real commits, one session per task.

Many POS sales, online sales and counted adjustments hit one hot stock row at once. Stock
never goes below zero, every unit sold is accounted for exactly once, and the ledger sums
to the final level. Idempotent POS requests racing through HTTP decrement once.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from o2o.bootstrap import create_app
from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.inventory import pos
from o2o.inventory import queries as inventory_queries
from o2o.inventory import service as inventory_service
from o2o.inventory.exceptions import InsufficientStock
from o2o.inventory.models import MovementKind, StockLevel, StockMovement
from o2o.inventory.schemas import PosSaleCreate, PosSaleLine
from o2o.merchants.models import Store
from tests.conftest import create_pg_database, drop_pg_database
from tests.factories import make_staff, stock
from tests.inventory.scene import make_shop

pytestmark = pytest.mark.postgres_only
START = 100


@dataclass
class HotRow:
    db: Database
    store_id: int
    variant_id: int
    barcode: str
    headers: dict[str, str]


@pytest.fixture
async def hot_row() -> AsyncIterator[HotRow]:
    url = await create_pg_database("o2o_conc")
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            shop = await make_shop(session, sizes=("M",))
            (variant,) = shop.variants
            await stock(session, store=shop.store, variant_id=variant.id, qty=START)
            _u, headers = await make_staff(session, merchant=shop.merchant, role=MemberRole.CLERK)
            await session.commit()
            yield HotRow(db, shop.store.id, variant.id, str(variant.barcode), headers)
    finally:
        await db.dispose()
        await drop_pg_database(url)


async def _store(session: AsyncSession, store_id: int) -> Store:
    found = await session.get(Store, store_id)
    assert isinstance(found, Store)
    return found


async def pos_sale(row: HotRow, qty: int) -> int:
    """Units the sale took."""
    async with row.db.session() as session:
        store = await _store(session, row.store_id)
        data = PosSaleCreate(
            sale_id=uuid.uuid4().hex,
            occurred_at=datetime.now(UTC),
            lines=[PosSaleLine(barcode=row.barcode, qty=qty)],
        )
        result, created = await pos.record_pos_sale(session, store=store, data=data)
        await session.commit()
        assert created
        return result.lines[0].applied


async def online_sale(row: HotRow, qty: int) -> int:
    async with row.db.session() as session:
        store = await _store(session, row.store_id)
        try:
            await inventory_service.remove_stock(
                session, store=store, variant_id=row.variant_id, qty=qty
            )
        except InsufficientStock:
            await session.rollback()
            return 0
        await session.commit()
        return qty


async def count(row: HotRow, on_hand: int) -> int:
    """A counted adjustment; returns the delta it recorded."""
    async with row.db.session() as session:
        store = await _store(session, row.store_id)
        change = await inventory_service.set_on_hand(
            session, store=store, variant_id=row.variant_id, on_hand=on_hand
        )
        await session.commit()
        return change.qty_delta


async def final_state(row: HotRow) -> tuple[int, int, int]:
    """(on_hand, sum of the ledger, number of discrepancies)."""
    async with row.db.session() as session:
        on_hand = await session.scalar(
            select(StockLevel.on_hand).where(StockLevel.variant_id == row.variant_id)
        )
        total = await session.scalar(
            select(func.sum(StockMovement.qty_delta)).where(
                StockMovement.variant_id == row.variant_id
            )
        )
        problems = await inventory_queries.ledger_discrepancies(session)
        return int(on_hand or 0), int(total or 0), len(problems)


async def test_demand_beyond_stock_sells_exactly_the_stock(hot_row: HotRow) -> None:
    tasks = [pos_sale(hot_row, 3) for _ in range(40)] + [online_sale(hot_row, 2) for _ in range(40)]
    random.Random(7).shuffle(tasks)
    sold = await asyncio.gather(*tasks)  # 200 units asked for, 100 in stock

    assert sum(sold) == START
    on_hand, ledger, problems = await final_state(hot_row)
    assert (on_hand, ledger, problems) == (0, 0, 0)


async def test_sales_and_counts_interleaved_never_go_negative_and_reconcile(
    hot_row: HotRow,
) -> None:
    rng = random.Random(11)
    kinds = ["pos"] * 40 + ["online"] * 40 + ["count"] * 15
    rng.shuffle(kinds)
    work = {
        "pos": lambda: pos_sale(hot_row, rng.randint(1, 4)),
        "online": lambda: online_sale(hot_row, rng.randint(1, 3)),
        "count": lambda: count(hot_row, rng.randint(0, 30)),
    }
    outcomes = await asyncio.gather(*(work[k]() for k in kinds))

    sold = sum(o for k, o in zip(kinds, outcomes, strict=True) if k != "count")
    counted = sum(o for k, o in zip(kinds, outcomes, strict=True) if k == "count")
    on_hand, ledger, problems = await final_state(hot_row)
    assert on_hand >= 0
    assert on_hand == START + counted - sold  # every unit sold is in the ledger, once
    assert ledger == on_hand
    assert problems == 0
    async with hot_row.db.session() as session:
        lowest = await session.scalar(
            select(func.min(StockMovement.on_hand_after)).where(
                StockMovement.variant_id == hot_row.variant_id
            )
        )
        decrements = await session.scalar(
            select(func.sum(StockMovement.qty_delta)).where(
                StockMovement.kind.in_([MovementKind.SALE, MovementKind.POS_SALE])
            )
        )
    assert lowest is not None
    assert lowest >= 0
    assert -int(decrements or 0) == sold


@pytest.fixture
def http_app(hot_row: HotRow, tmp_path: Path) -> httpx.AsyncClient:
    settings = Settings(
        database_url="sqlite+aiosqlite://",  # unused: the app gets the real database
        data_dir=tmp_path,
        secret_key="test-secret-key-0123456789",
    )
    app = create_app(settings, database=hot_row.db)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_racing_requests_with_one_key_decrement_once(
    hot_row: HotRow, http_app: httpx.AsyncClient
) -> None:
    url = f"/api/v1/stores/{hot_row.store_id}/pos-sales"
    body = {
        "sale_id": "till-1-000123",
        "occurred_at": "2026-05-01T10:30:00+08:00",
        "lines": [{"barcode": hot_row.barcode, "qty": 3}],
    }
    headers = {**hot_row.headers, "Idempotency-Key": "9d1c-race"}
    async with http_app as client:
        responses = await asyncio.gather(
            *(client.post(url, json=body, headers=headers) for _ in range(20))
        )
        statuses = sorted(r.status_code for r in responses)
        created = [r for r in responses if r.status_code == 201]
        assert set(statuses) <= {201, 409}, [r.text for r in responses]
        assert created
        assert all(r.content == created[0].content for r in created)
        assert all(
            r.json()["code"] == "idempotency_in_flight" for r in responses if r.status_code == 409
        )
        fresh = [r for r in created if "idempotent-replayed" not in r.headers]
        assert len(fresh) == 1

        later = await client.post(url, json=body, headers=headers)
        assert later.status_code == 201
        assert later.content == created[0].content

        # The same sale under other keys, racing: still applied once.
        others = await asyncio.gather(
            *(
                client.post(url, json=body, headers={**hot_row.headers, "Idempotency-Key": f"k{n}"})
                for n in range(10)
            )
        )
        assert {r.status_code for r in others} == {200}
    on_hand, ledger, problems = await final_state(hot_row)
    assert (on_hand, ledger, problems) == (START - 3, START - 3, 0)
