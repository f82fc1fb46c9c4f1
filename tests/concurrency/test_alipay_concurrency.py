"""Alipay notifications delivered concurrently on PostgreSQL (real commits, many connections):
genuine copies racing each other and forged, tampered and foreign ones — paid once."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from o2o.core.db import Database, create_engine
from o2o.core.settings import Settings
from o2o.inventory import queries as inventory_queries
from o2o.inventory.models import StockLevel
from o2o.orders import service as orders_service
from o2o.orders.models import OrderStatus
from o2o.payments import service as payments_service
from o2o.payments.models import NotificationOutcome, PaymentNotification
from o2o.sandbox.alipay import AlipaySandbox
from o2o.sandbox.alipay.keys import new_key
from tests.conftest import create_pg_database, drop_pg_database
from tests.factories import make_user, stock, token_for
from tests.inventory.scene import make_shop
from tests.payments.alipay_scene import FORM, NOTIFY, alipay_app, out_trade_no

pytestmark = pytest.mark.postgres_only
UNITS = 10


@dataclass
class Arena:
    db: Database
    app: FastAPI
    sandbox: AlipaySandbox
    store_id: int
    variant_id: int
    shopper: dict[str, str]


@pytest.fixture
async def arena(tmp_path: Path) -> AsyncIterator[Arena]:
    url = await create_pg_database("o2o_alipay")
    engine = create_engine(url, pool_size=16)
    db = Database(engine, async_sessionmaker(engine, expire_on_commit=False))
    try:
        async with db.session() as session:
            shop = await make_shop(session, sizes=("M",))
            (variant,) = shop.variants
            await stock(session, store=shop.store, variant_id=variant.id, qty=UNITS)
            shopper = await token_for(session, await make_user(session))
            await session.commit()
        settings = Settings(
            database_url="sqlite+aiosqlite://",  # unused: the app gets the real database
            data_dir=tmp_path,
            secret_key="test-secret-key-0123456789",
        )
        app, sandbox = alipay_app(settings, db)
        yield Arena(db, app, sandbox, shop.store.id, variant.id, shopper)
    finally:
        await db.dispose()
        await drop_pg_database(url)


async def test_a_storm_of_alipay_notifications_pays_once(arena: Arena) -> None:
    transport = httpx.ASGITransport(app=arena.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", timeout=120
    ) as client:
        placed = await client.post(
            "/api/v1/orders",
            json={
                "store_id": arena.store_id,
                "fulfilment": "pickup",
                "lines": [{"variant_id": arena.variant_id, "qty": 2}],
            },
            headers={**arena.shopper, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["id"]
        started = await client.post(
            f"/api/v1/orders/{order_id}/payments",
            json={"provider": "alipay"},
            headers=arena.shopper,
        )
        assert started.status_code == 201, started.text
        number = out_trade_no(started.json())
        await arena.sandbox.pay(number)
        (owed,) = arena.sandbox.notifier.owed
        genuine = [owed.body] + [arena.sandbox.notification(number) for _ in range(7)]
        bad = [
            arena.sandbox.forge(owed.body, total_amount="0.01"),
            arena.sandbox.notification(number, total_amount="0.01"),
            arena.sandbox.notification(number, app_id="2021000000000999"),
            arena.sandbox.notification(number, key=new_key()),
        ]
        bodies = genuine * 2 + bad * 2
        random.Random(7).shuffle(bodies)
        responses = await asyncio.gather(
            *(client.post(NOTIFY, content=b, headers={"Content-Type": FORM}) for b in bodies)
        )

    assert sorted((r.status_code, r.text) for r in responses) == sorted(
        [(200, "success")] * len(genuine) * 2 + [(400, "fail")] * len(bad) * 2
    )
    async with arena.db.session() as session:
        order = await orders_service.get_order(session, order_id=order_id)
        assert order.status == OrderStatus.PAID
        payment = await payments_service.get_payment(session, payment_id=order.payment_id or 0)
        assert (payment.amount, payment.refunded) == (order.total, 0)
        level = await session.scalar(
            select(StockLevel).where(StockLevel.store_id == arena.store_id)
        )
        assert level is not None
        assert (level.on_hand, level.reserved) == (UNITS - 2, 0)
        outcomes = list(await session.scalars(select(PaymentNotification.outcome)))
        assert outcomes.count(NotificationOutcome.APPLIED) == 1
        assert outcomes.count(NotificationOutcome.DUPLICATE) == len(genuine) * 2 - 1
        assert outcomes.count(NotificationOutcome.REJECTED) == len(bad) * 2
        assert await inventory_queries.ledger_discrepancies(session) == []
