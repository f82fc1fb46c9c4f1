"""Two operators retry one failed refund at once on PostgreSQL (real commits), while workers
carry it out: one retry wins, the other is told it is no longer failed, and the provider is
asked for, and makes, one refund under the refund's own number."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.bootstrap import create_app
from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.payments import demo_wallet, refunds
from o2o.payments.demo_wallet import DemoWalletRefund
from o2o.payments.exceptions import WalletRefused
from o2o.payments.models import Payment, Refund, RefundStatus
from o2o.worker.relay import Relay
from tests.conftest import create_pg_database, drop_pg_database
from tests.factories import make_user, token_for
from tests.orders.scene import OrderScene, key, make_scene, pay, place

pytestmark = pytest.mark.postgres_only


@dataclass
class Desk:
    db: Database
    app: FastAPI
    scene: OrderScene
    admin: dict[str, str]


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    url = await create_pg_database("o2o_retry")
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            scene = await make_scene(session)
            admin = await token_for(session, await make_user(session, is_platform_admin=True))
            await session.commit()
        settings = Settings(
            database_url="sqlite+aiosqlite://",  # unused: the app gets the real database
            data_dir=tmp_path,
            secret_key="test-secret-key-0123456789",
        )
        yield Desk(db, create_app(settings, database=db), scene, admin)
    finally:
        await db.dispose()
        await drop_pg_database(url)


async def test_two_concurrent_retries_make_one_provider_refund(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    wallet = demo_wallet.wallet_in(desk.app.state.payment_providers)
    real_refund = wallet.refund
    asked: list[str] = []
    refuse = True

    async def wallet_refund(session: AsyncSession, payment: Payment, refund: Refund) -> str:
        asked.append(refund.request_no)
        if refuse:
            raise WalletRefused("The wallet cannot refund now.")
        await asyncio.sleep(0.01)  # the provider takes its time
        return await real_refund(session, payment, refund)

    monkeypatch.setattr(wallet, "refund", wallet_refund)
    transport = httpx.ASGITransport(app=desk.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        # given a paid order cancelled, whose refund the wallet refused
        placed = await place(client, desk.scene)
        order = await pay(client, desk.app, desk.scene, placed.json()["id"])
        cancelled = await client.post(
            f"/api/v1/orders/{order['id']}/cancel", headers=desk.scene.shopper_headers
        )
        assert cancelled.status_code == 200, cancelled.text
        await desk.app.state.relay.drain()
        async with desk.db.session() as session:
            [row] = await refunds.with_status(session, status=RefundStatus.FAILED)
        refuse = False
        asked.clear()

        # when two operators retry it at once while workers run
        relays = [Relay(desk.db, desk.app.state.relay.handlers) for _ in range(3)]

        async def retry() -> httpx.Response:
            return await client.post(
                f"/api/v1/admin/refunds/{row.id}/retry", headers={**desk.admin, **key()}
            )

        both = asyncio.gather(retry(), retry())
        answers, _ = await asyncio.gather(both, asyncio.gather(*(r.drain() for r in relays)))
        for r in relays:
            await r.drain()

    # then one retry won, the other was told why; one refund was made, once, at the wallet
    assert sorted(a.status_code for a in answers) == [200, 409]
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.json()["code"] == "refund_not_retryable"
    async with desk.db.session() as session:
        done = await session.get(Refund, row.id)
        made = list(await session.scalars(select(DemoWalletRefund)))
    assert done is not None
    assert done.status == RefundStatus.SUCCEEDED
    assert [(m.request_no, m.amount) for m in made] == [(row.request_no, row.amount)]
    assert set(asked) == {row.request_no}
