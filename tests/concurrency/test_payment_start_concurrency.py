"""Starting a payment on PostgreSQL with real commits: the provider is asked outside any
transaction, so while it takes its time nothing of ours is locked; two starts of one order
make one provider trade; a cancel during the call wins and the late charge is not shown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.bootstrap import create_app
from o2o.core.db import Database
from o2o.core.outbox_models import OutboxMessage
from o2o.core.settings import Settings
from o2o.payments import demo_wallet
from o2o.payments.models import Payment, PaymentStatus
from o2o.payments.providers import Charge
from o2o.payments.service import CLOSE_TOPIC
from tests.conftest import create_pg_database, drop_pg_database
from tests.orders.scene import OrderScene, key, make_scene, place

pytestmark = pytest.mark.postgres_only


@dataclass
class Desk:
    db: Database
    app: FastAPI
    scene: OrderScene


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    url = await create_pg_database("o2o_paystart")
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


class SlowWallet:
    """The demo wallet's ``create``, held at a gate until the test opens it."""

    def __init__(self, wallet: demo_wallet.DemoWallet) -> None:
        self.real = wallet.create
        self.asked = asyncio.Event()
        self.gate = asyncio.Event()
        self.calls: list[int] = []

    async def create(self, session: AsyncSession, payment: Payment) -> Charge:
        self.calls.append(payment.id)
        self.asked.set()
        await self.gate.wait()
        return await self.real(session, payment)


def slow(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> SlowWallet:
    wallet = demo_wallet.wallet_in(desk.app.state.payment_providers)
    held = SlowWallet(wallet)
    monkeypatch.setattr(wallet, "create", held.create)
    return held


async def start(client: httpx.AsyncClient, desk: Desk, order_id: int) -> httpx.Response:
    return await client.post(
        f"/api/v1/orders/{order_id}/payments",
        json={"provider": "demo"},
        headers={**desk.scene.shopper_headers, **key()},
    )


async def test_nothing_is_locked_while_the_provider_answers(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = httpx.ASGITransport(app=desk.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        first = (await place(client, desk.scene)).json()["id"]
        other = (await place(client, desk.scene)).json()["id"]
        wallet = slow(desk, monkeypatch)

        # given a payment start whose provider call is held
        held = asyncio.create_task(start(client, desk, first))
        await asyncio.wait_for(wallet.asked.wait(), 10)

        # then its intent is committed (seen from another connection) ...
        async with desk.db.session() as session:
            payment = await session.scalar(select(Payment).where(Payment.reference.is_not(None)))
            assert payment is not None
            assert (payment.status, payment.qr_payload) == (PaymentStatus.CREATING, "")
            # ... and the order's row is not locked: NOWAIT would fail at once if it were
            await session.execute(text("SET LOCAL lock_timeout = '1s'"))
            locked = await session.execute(
                text("SELECT id FROM orders WHERE id = :id FOR UPDATE NOWAIT"), {"id": first}
            )
            assert locked.scalar_one() == first
            await session.rollback()
        # and another order's payment goes through meanwhile
        wallet.gate.set()
        done = await asyncio.wait_for(start(client, desk, other), 10)
        assert done.status_code == 201, done.text
        answer = await asyncio.wait_for(held, 10)

    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "pending"
    assert answer.json()["qr_payload"]


async def test_two_starts_of_one_order_make_one_provider_trade(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = httpx.ASGITransport(app=desk.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        order_id = (await place(client, desk.scene)).json()["id"]
        wallet = slow(desk, monkeypatch)
        same_key = {**desk.scene.shopper_headers, **key()}

        async def keyed() -> httpx.Response:
            return await client.post(
                f"/api/v1/orders/{order_id}/payments", json={"provider": "demo"}, headers=same_key
            )

        # when a start is asking the provider, a second (another key) and a retry (same key)
        first = asyncio.create_task(keyed())
        await asyncio.wait_for(wallet.asked.wait(), 10)
        second, retry = await asyncio.gather(start(client, desk, order_id), keyed())
        wallet.gate.set()
        answer = await asyncio.wait_for(first, 10)
        # and the same key once more, after the first answered
        replay = await keyed()

    # then only the first asked the provider; the others were told to wait or replayed
    assert answer.status_code == 201, answer.text
    assert (second.status_code, second.json()["code"]) == (409, "payment_in_progress")
    assert (retry.status_code, retry.json()["code"]) == (409, "idempotency_in_flight")
    assert replay.status_code == 201
    assert replay.json() == answer.json()
    assert len(wallet.calls) == 1
    async with desk.db.session() as session:
        trades = await session.scalar(select(func.count()).select_from(demo_wallet.DemoWalletTrade))
        payments = await session.scalar(select(func.count()).select_from(Payment))
    assert (trades, payments) == (1, 1)


async def test_a_cancel_during_the_provider_call_wins_and_closes_the_trade(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = httpx.ASGITransport(app=desk.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        order_id = (await place(client, desk.scene)).json()["id"]
        wallet = slow(desk, monkeypatch)
        held = asyncio.create_task(start(client, desk, order_id))
        await asyncio.wait_for(wallet.asked.wait(), 10)

        # when the shopper cancels while the provider is still answering (not blocked)
        cancelled = await asyncio.wait_for(
            client.post(f"/api/v1/orders/{order_id}/cancel", headers=desk.scene.shopper_headers),
            5,
        )
        wallet.gate.set()
        late = await asyncio.wait_for(held, 10)

    # then the cancel stands, the late charge is not shown, and its trade is to be closed
    assert cancelled.status_code == 200, cancelled.text
    assert (late.status_code, late.json()["code"]) == (409, "order_not_payable")
    async with desk.db.session() as session:
        payment = await session.scalar(select(Payment))
        closes = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.topic == CLOSE_TOPIC)
        )
    assert payment is not None
    assert (payment.status, payment.qr_payload) == (PaymentStatus.CLOSED, "")
    assert closes == 1
