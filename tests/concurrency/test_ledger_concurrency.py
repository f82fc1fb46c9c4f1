"""The money ledger under real concurrency on PostgreSQL (real commits, many connections).

- Shoppers cancelling, staff rejecting and the expiry timer, all at once on the same paid
  orders: each order is refunded once, and the ledger has one refund journal for it.
- Desks taking back units of the same order at once: commission is given back by the
  rule, exactly all of it once everything is back.
- A notification storm for one payment: one capture.
- The same posting from two transactions at once: written once, the second a no-op.
After each, ``o2o ledger check`` finds nothing.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from o2o.accounts import service as accounts_service
from o2o.accounts.models import MemberRole, TokenKind, User
from o2o.bootstrap import create_app
from o2o.core.clock import utcnow
from o2o.core.db import Database, create_engine
from o2o.core.settings import Settings
from o2o.ledger import accounts, audit
from o2o.ledger import service as ledger_service
from o2o.ledger.models import Entry, Journal, JournalKind
from o2o.orders import expiry, ledger_check
from o2o.orders.models import Order, OrderStatus
from o2o.orders.policy import OrderPolicy
from o2o.payments import demo_wallet
from o2o.payments.models import Refund
from o2o.worker.relay import Relay
from tests.conftest import create_pg_database, drop_pg_database
from tests.factories import make_staff, make_store, stock
from tests.inventory.scene import make_shop

pytestmark = pytest.mark.postgres_only
IN_FLIGHT = 16


@dataclass
class Till:
    db: Database
    app: FastAPI
    stores: list[int]
    clerks: list[dict[str, str]]  # one per store
    variant_id: int


@pytest.fixture
async def till(tmp_path: Path) -> AsyncIterator[Till]:
    url = await create_pg_database("o2o_ledger")
    engine = create_engine(url, pool_size=IN_FLIGHT // 2)
    db = Database(engine, async_sessionmaker(engine, expire_on_commit=False))
    try:
        async with db.session() as session:
            shop = await make_shop(session, sizes=("M",))
            other = await make_store(session, merchant=shop.merchant, region=shop.region)
            (variant,) = shop.variants
            clerks = []
            for store in (shop.store, other):
                await stock(session, store=store, variant_id=variant.id, qty=500)
                _clerk, headers = await make_staff(
                    session, merchant=shop.merchant, role=MemberRole.MANAGER
                )
                clerks.append(headers)
            await session.commit()
        settings = Settings(
            database_url="sqlite+aiosqlite://",  # unused: the app gets the real database
            data_dir=tmp_path,
            secret_key="test-secret-key-0123456789",
        )
        yield Till(
            db, create_app(settings, database=db), [shop.store.id, other.id], clerks, variant.id
        )
    finally:
        await db.dispose()
        await drop_pg_database(url)


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=120
    )


async def _shopper(db: Database) -> dict[str, str]:
    async with db.session() as session:
        user_id = await session.scalar(
            insert(User).returning(User.id),
            [
                {
                    "email": f"s-{uuid.uuid4().hex[:8]}@example.test",
                    "display_name": "S",
                    "password_hash": "!",
                }
            ],
        )
        assert user_id is not None
        token, _ = await accounts_service.issue_token(
            session, user_id=user_id, kind=TokenKind.API, ttl=timedelta(hours=1)
        )
        await session.commit()
    return {"Authorization": f"Bearer {token}"}


async def _paid(t: Till, client: httpx.AsyncClient, qty: int) -> tuple[int, dict[str, str]]:
    """A pickup order of ``qty`` units at the first store, paid: (order id, its shopper)."""
    shopper = await _shopper(t.db)
    placed = await client.post(
        "/api/v1/orders",
        json={
            "store_id": t.stores[0],
            "fulfilment": "pickup",
            "lines": [{"variant_id": t.variant_id, "qty": qty}],
        },
        headers={**shopper, "Idempotency-Key": uuid.uuid4().hex},
    )
    order = placed.json()
    payment = (
        await client.post(
            f"/api/v1/orders/{order['id']}/payments", json={"provider": "demo"}, headers=shopper
        )
    ).json()
    await client.post(
        f"/api/v1/payments/demo/{payment['payment_id']}/confirm",
        json={"token": payment["qr_payload"].split("t=")[1]},
    )
    relay: Relay = t.app.state.relay
    await relay.drain()
    return order["id"], shopper


async def _nothing_wrong(t: Till) -> None:
    async with t.db.session() as session:
        assert await ledger_check.differences(session) == []
        balances = await audit.balances(session)
        assert sum(balances.values()) == 0


async def test_racing_cancellations_rejections_and_expiry_refund_once(till: Till) -> None:
    rng = random.Random(11)
    async with _client(till.app) as client:
        orders = [await _paid(till, client, qty) for qty in (1, 2, 3, 1, 2, 3)]
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def cancel(order_id: int, shopper: dict[str, str]) -> int:
            async with gate:
                r = await client.post(
                    f"/api/v1/orders/{order_id}/cancel", json={"reason": "race"}, headers=shopper
                )
                return r.status_code

        async def reject(order_id: int) -> int:
            async with gate:
                r = await client.post(
                    f"/api/v1/stores/{till.stores[0]}/orders/{order_id}/transitions",
                    json={"to": "rejected", "reason": "race"},
                    headers=till.clerks[0],
                )
                return r.status_code

        async def expire(order_id: int) -> int:
            """The timer, as the worker runs it: its own transaction, after the grace."""
            async with gate, till.db.session() as session:
                done = await expiry.expire(
                    session,
                    order_id=order_id,
                    policy=OrderPolicy(),
                    providers=till.app.state.payment_providers,
                    now=utcnow() + timedelta(days=3),
                )
                await session.commit()
                return 200 if done else 409

        jobs = []
        for order_id, shopper in orders:
            jobs += [cancel(order_id, shopper) for _ in range(4)]
            jobs += [reject(order_id) for _ in range(3)]
            jobs += [expire(order_id) for _ in range(2)]
        rng.shuffle(jobs)
        statuses = await asyncio.gather(*jobs, return_exceptions=True)
    assert not [s for s in statuses if isinstance(s, BaseException)], statuses
    assert set(statuses) <= {200, 409}, statuses

    async with till.db.session() as session:
        for order_id, _shopper in orders:
            order = await session.get(Order, order_id)
            assert order is not None
            assert order.status in (OrderStatus.CANCELLED, OrderStatus.REJECTED)
            refunds = list(
                await session.scalars(
                    select(Refund.amount).where(Refund.reference == f"order:{order_id}")
                )
            )
            assert refunds == [order.total] == [order.refunded]
            journals = await session.scalar(
                select(func.count(func.distinct(Journal.id)))
                .join(Entry, Entry.journal_id == Journal.id)
                .where(Journal.kind == JournalKind.REFUND, Entry.order_id == order_id)
            )
            assert journals == 1
        # Every sale fully refunded: the merchant is owed nothing, the platform earned nothing
        balances = await audit.balances(session)
        assert {a: b for (a, _c), b in balances.items() if b} == {}
    await _nothing_wrong(till)


async def test_racing_desks_give_commission_back_exactly(till: Till) -> None:
    async with _client(till.app) as client:
        order_id, shopper = await _paid(till, client, 7)
        code = (await client.get(f"/api/v1/orders/{order_id}", headers=shopper)).json()[
            "pickup_code"
        ]["code"]
        redeemed = await client.post(
            f"/api/v1/stores/{till.stores[0]}/redemptions",
            json={"code": code},
            headers=till.clerks[0],
        )
        assert redeemed.status_code == 200, redeemed.text
        line_id = redeemed.json()["order"]["lines"][0]["id"]
        sends = [
            client.post(
                f"/api/v1/stores/{till.stores[n % 2]}/returns",
                json={
                    "order_id": order_id,
                    "lines": [{"line_id": line_id, "qty": 1}],
                    "reason": "race",
                    "kind": "return",
                },
                headers={**till.clerks[n % 2], "Idempotency-Key": f"desk-{n}"},
            )
            for n in range(14)
        ]
        responses = await asyncio.gather(*sends)
    assert sorted(r.status_code for r in responses) == [201] * 7 + [409] * 7, [
        r.text for r in responses
    ]
    async with till.db.session() as session:
        fees = dict(
            (
                await session.execute(
                    select(Journal.kind, func.sum(Entry.amount))
                    .join(Journal, Journal.id == Entry.journal_id)
                    .where(
                        Entry.order_id == order_id, Entry.account == accounts.PLATFORM_COMMISSION
                    )
                    .group_by(Journal.kind)
                )
            ).all()
        )
        assert fees[JournalKind.CAPTURE] == -fees[JournalKind.REFUND] != 0
        journals = await session.scalar(
            select(func.count()).select_from(Journal).where(Journal.kind == JournalKind.REFUND)
        )
        assert journals == 7
    await _nothing_wrong(till)


async def test_a_notification_storm_captures_once(till: Till) -> None:
    async with _client(till.app) as client:
        shopper = await _shopper(till.db)
        placed = await client.post(
            "/api/v1/orders",
            json={
                "store_id": till.stores[0],
                "fulfilment": "pickup",
                "lines": [{"variant_id": till.variant_id, "qty": 2}],
            },
            headers={**shopper, "Idempotency-Key": uuid.uuid4().hex},
        )
        payment = (
            await client.post(
                f"/api/v1/orders/{placed.json()['id']}/payments",
                json={"provider": "demo"},
                headers=shopper,
            )
        ).json()
        wallet = demo_wallet.wallet_in(till.app.state.payment_providers)
        async with till.db.session() as session:
            await wallet.confirm(
                session,
                payment_id=payment["payment_id"],
                token=wallet.token_for(payment["payment_id"]),
            )
            await session.commit()
            signed = await wallet.notification_for(session, payment_id=payment["payment_id"])
        assert signed is not None
        body, headers = signed
        responses = await asyncio.gather(
            *(
                client.post("/api/v1/payments/demo/notify", content=body, headers=headers)
                for _ in range(16)
            )
        )
    assert {r.status_code for r in responses} == {200}
    async with till.db.session() as session:
        captures = await session.scalar(
            select(func.count()).select_from(Journal).where(Journal.kind == JournalKind.CAPTURE)
        )
        assert captures == 1
    await _nothing_wrong(till)


async def test_the_same_posting_at_once_is_written_once(till: Till) -> None:
    """Two transactions post one reference at once: the second waits for the first's commit
    and then writes nothing (no error, no second journal)."""
    lines = [
        ledger_service.Line("provider_clearing:demo", 100),
        ledger_service.Line("unallocated_receipts", -100),
    ]
    reference = f"test:{uuid.uuid4().hex}"

    async def post(pause: float) -> int | None:
        async with till.db.session() as session:
            done = await ledger_service.post(
                session,
                kind=JournalKind.CAPTURE,
                reference=reference,
                currency="CNY",
                occurred_at=utcnow(),
                lines=lines,
            )
            await asyncio.sleep(pause)  # hold the first one's row until the other is waiting
            await session.commit()
            return done

    first, second = await asyncio.gather(post(0.5), post(0))
    assert sorted([first is None, second is None]) == [False, True]
    async with till.db.session() as session:
        rows = await session.scalar(
            select(func.count())
            .select_from(Entry)
            .join(Journal)
            .where(Journal.reference == reference)
        )
        assert rows == 2
