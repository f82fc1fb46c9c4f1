"""Refunds under real concurrency on PostgreSQL (real commits, many connections).

Many requests refund parts of one paid order at once while several workers carry the
refunds out, each refund's message handled more than once: the refunds never exceed what
was captured, the provider is only ever asked for a refund under that refund's own request
number, every refund ends made exactly once, and the ledger reconciles.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.bootstrap import create_app
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.core.outbox import emit
from o2o.core.outbox_models import OutboxMessage
from o2o.core.settings import Settings
from o2o.orders import ledger_check
from o2o.orders import service as orders_service
from o2o.orders.exceptions import OrderChanged
from o2o.payments import demo_wallet, refunds
from o2o.payments.demo_wallet import DemoWalletRefund
from o2o.payments.exceptions import RefundExceedsPaid
from o2o.payments.models import Payment, Refund, RefundStatus
from o2o.worker.relay import Relay
from tests.conftest import create_pg_database, drop_pg_database
from tests.orders.scene import OrderScene, make_scene, pay, place

pytestmark = pytest.mark.postgres_only
REQUESTS = 24


@dataclass
class Desk:
    db: Database
    app: FastAPI
    scene: OrderScene


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    url = await create_pg_database("o2o_refunds")
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            scene = await make_scene(session)
        settings = Settings(
            database_url="sqlite+aiosqlite://",  # unused: the app gets the real database
            data_dir=tmp_path,
            secret_key="test-secret-key-0123456789",
        )
        yield Desk(db, create_app(settings, database=db), scene)
    finally:
        await db.dispose()
        await drop_pg_database(url)


async def test_concurrent_refunds_and_workers_never_refund_more_or_twice(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = httpx.ASGITransport(app=desk.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        placed = await place(client, desk.scene, lines=[(desk.scene.variants[1].id, 3)])
        order = await pay(client, desk.app, desk.scene, placed.json()["id"])
    assert order["status"] == "paid"
    total, order_id = int(order["total"]), int(order["id"])

    # every call the wallet gets, as (refund id, request number)
    wallet = demo_wallet.wallet_in(desk.app.state.payment_providers)
    asked: list[tuple[int, str]] = []
    real_refund = wallet.refund

    async def recording(session: AsyncSession, payment: Payment, refund: Refund) -> str:
        asked.append((refund.id, refund.request_no))
        await asyncio.sleep(random.random() / 100)  # the provider takes its time
        return await real_refund(session, payment, refund)

    monkeypatch.setattr(wallet, "refund", recording)
    relays = [Relay(desk.db, desk.app.state.relay.handlers) for _ in range(4)]
    # amounts that add up to more than the total: some must be refused
    amounts = [random.randint(1, total // 8) for _ in range(REQUESTS)]
    assert sum(amounts) > total
    made: list[int] = []
    refused: list[int] = []

    async def request(amount: int) -> None:
        # The use case locks the order first, so a refusal means nothing is left to refund.
        try:
            async with desk.db.session() as session:
                target = await orders_service.get_order(session, order_id=order_id)
                await orders_service.lock_order(session, target)
                row = await orders_service.refund(
                    session,
                    target,
                    providers=desk.app.state.payment_providers,
                    reason="part",
                    amount=amount,
                )
                assert row is not None
                # the same refund handed to the workers twice (a redelivered message)
                emit(session, refunds.REFUND_TOPIC, {"refund_id": row.id})
                await session.commit()
                made.append(amount)
        except (OrderChanged, RefundExceedsPaid):
            refused.append(amount)

    async def work() -> None:
        for _ in range(30):
            await random.choice(relays).run_once()
            await asyncio.sleep(0.01)

    await asyncio.gather(*(request(a) for a in amounts), *(work() for _ in range(4)))
    # the last messages: due now (back-off skipped) until all refunds are made
    for _ in range(20):
        async with desk.db.session() as session:
            waiting = await session.scalar(
                select(func.count())
                .select_from(Refund)
                .where(Refund.status != RefundStatus.SUCCEEDED)
            )
        if not waiting:
            break
        async with desk.db.session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.processed_at.is_(None))
                .values(available_at=utcnow())
            )
            await session.commit()
        await asyncio.gather(*(r.run_once() for r in relays))

    async with desk.db.session() as session:
        rows = list(await session.scalars(select(Refund).order_by(Refund.id)))
        payment = await session.get(Payment, rows[0].payment_id)
        assert payment is not None
        at_wallet = list(await session.scalars(select(DemoWalletRefund)))
        differences = await ledger_check.differences(session)
        placed_order = await orders_service.get_order(session, order_id=order_id)

    # never more than captured, and what was refused left nothing behind
    assert sum(r.amount for r in rows) == sum(made) == payment.refunded <= total
    assert placed_order.refunded == payment.refunded
    assert all(r.status == RefundStatus.SUCCEEDED for r in rows)
    # the wallet was only ever asked under each refund's own number, and made each once
    numbers = {r.id: r.request_no for r in rows}
    assert all(numbers[refund_id] == number for refund_id, number in asked)
    assert sorted((w.request_no, w.amount) for w in at_wallet) == sorted(
        (r.request_no, r.amount) for r in rows
    )
    assert len(asked) >= len(rows)
    assert len(made) + len(refused) == REQUESTS
    assert refused
    assert differences == []
