"""WeChat Pay notifications under real concurrency on PostgreSQL (real commits, many
connections): the genuine one delivered many times at once, fresh duplicates, replays and
forgeries all racing. The order is paid once, with the right amount; every forgery is logged
as rejected; no refund is made; the stock ledger reconciles."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from o2o.bootstrap import create_app
from o2o.core.db import Database, create_engine
from o2o.inventory import queries as inventory_queries
from o2o.inventory.models import StockLevel
from o2o.orders.models import Order, OrderStatus
from o2o.payments.models import NotificationOutcome, Payment, PaymentNotification, PaymentStatus
from o2o.payments.wechat.trade_no import out_trade_no
from o2o.sandbox.routing import HostRouter
from o2o.sandbox.wechat import WechatPaySimulator
from o2o.sandbox.wechat.notifier import Signed, sign
from o2o.sandbox.wechat.provision import new_key, provision
from tests.conftest import create_pg_database, drop_pg_database
from tests.factories import make_user, stock, token_for
from tests.inventory.scene import make_shop
from tests.payments.wechat_scene import HOST, NOTIFY, no_sleep, wechat_settings

pytestmark = pytest.mark.postgres_only
UNITS = 20


@dataclass
class Till:
    db: Database
    app: FastAPI
    sim: WechatPaySimulator
    store_id: int
    variant_id: int
    headers: dict[str, str]


@pytest.fixture
async def till(tmp_path: Path) -> AsyncIterator[Till]:
    url = await create_pg_database("o2o_wechat")
    engine = create_engine(url, pool_size=16)
    db = Database(engine, async_sessionmaker(engine, expire_on_commit=False))
    try:
        async with db.session() as session:
            shop = await make_shop(session, sizes=("M",))
            (variant,) = shop.variants
            await stock(session, store=shop.store, variant_id=variant.id, qty=UNITS)
            shopper = await make_user(session)
            headers = await token_for(session, shopper)
            await session.commit()
        account = provision(tmp_path / "wechat", merchant_key=new_key(), platform_key=new_key())
        sim = WechatPaySimulator(
            platform_key=account.platform_key(),
            platform_serial=account.platform_serial,
            merchants=[account.merchant()],
            schedule=(0,),
            sleep=no_sleep,
        )
        app = create_app(
            wechat_settings(account, tmp_path / "data"),
            database=db,
            payment_transport=HostRouter({HOST: httpx.ASGITransport(app=sim.app)}),
        )
        sim.notify_transport = httpx.ASGITransport(app=app)
        yield Till(db, app, sim, shop.store.id, variant.id, headers)
    finally:
        await db.dispose()
        await drop_pg_database(url)


async def test_a_notification_storm_pays_once(till: Till) -> None:
    transport = httpx.ASGITransport(app=till.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", timeout=120
    ) as client:
        placed = await client.post(
            "/api/v1/orders",
            json={
                "store_id": till.store_id,
                "fulfilment": "pickup",
                "lines": [{"variant_id": till.variant_id, "qty": 2}],
            },
            headers={**till.headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["id"]
        payment = (
            await client.post(
                f"/api/v1/orders/{order_id}/payments",
                json={"provider": "wechat"},
                headers=till.headers,
            )
        ).json()
        number = out_trade_no(payment["payment_id"])
        sim = till.sim
        assert sim.mark_paid(sim.trade(number))  # paid in WeChat; now the notifications

        genuine = sim.notification(number)
        forger = new_key()
        forgeries: list[Signed] = [
            *(sim.notification(number, changes={"amount": {"total": 1}}) for _ in range(4)),
            *(sign(genuine.body, forger, sim.platform_serial) for _ in range(4)),
            *(sim.notification(number, timestamp=int(time.time()) - 600) for _ in range(4)),
            *(sim.notification(number, changes={"mchid": "1999999999"}) for _ in range(4)),
        ]
        deliveries = [genuine] * 16 + [sim.notification(number) for _ in range(8)] + forgeries
        random.Random(7).shuffle(deliveries)
        responses = await asyncio.gather(
            *(client.post(NOTIFY, content=s.body, headers=s.headers) for s in deliveries)
        )
    assert sorted({r.status_code for r in responses}) == [204, 400]
    assert sum(r.status_code == 204 for r in responses) == 24
    async with till.db.session() as session:
        order = await session.get(Order, order_id)
        assert order is not None
        assert order.status == OrderStatus.PAID
        paid = await session.get(Payment, payment["payment_id"])
        assert paid is not None
        assert (paid.status, paid.amount, paid.refunded) == (
            PaymentStatus.SUCCEEDED,
            payment["amount"],
            0,
        )
        level = await session.scalar(select(StockLevel).where(StockLevel.store_id == till.store_id))
        assert level is not None
        assert (level.on_hand, level.reserved) == (UNITS - 2, 0)
        rows = list(await session.scalars(select(PaymentNotification)))
        outcomes = [(r.outcome, r.reason) for r in rows]
        assert outcomes.count((NotificationOutcome.APPLIED, "")) == 1
        assert sorted(r for o, r in outcomes if o == NotificationOutcome.REJECTED) == sorted(
            ["amount_mismatch"] * 4 + ["bad_signature"] * 4 + ["stale"] * 4
            + ["foreign_merchant"] * 4
        )  # fmt: skip
        assert sum(o == NotificationOutcome.DUPLICATE for o, _r in outcomes) == 23
        assert await inventory_queries.ledger_discrepancies(session) == []
    assert till.sim.trade(number).refunds == []
