"""Order invariants under real concurrency on PostgreSQL (real commits, many connections).

- 1,000 shoppers racing for the last 100 units: exactly 100 sold, none oversold, none left
  unsold while someone was refused, and a retried key never makes a second order.
- A pickup code redeemed from many counters at once succeeds once.
- A payment notification delivered many times at once, replayed, or forged: paid once.
- Expired holds always come back, whatever races them; the ledger reconciles.
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
from o2o.core.idempotency_models import IdempotencyRecord
from o2o.core.settings import Settings
from o2o.inventory import queries as inventory_queries
from o2o.inventory import reservations
from o2o.inventory.models import Reservation, ReservationStatus, StockLevel
from o2o.orders import placement, placement_pg
from o2o.orders import service as orders_service
from o2o.orders.models import Fulfilment, Order, OrderStatus
from o2o.orders.policy import OrderPolicy
from o2o.orders.schemas import LineIn, OrderCreate
from o2o.payments import demo_wallet
from o2o.payments.models import NotificationOutcome, PaymentNotification
from o2o.worker.relay import Relay
from tests.conftest import create_pg_database, drop_pg_database
from tests.factories import make_staff, stock
from tests.inventory.scene import make_shop

pytestmark = pytest.mark.postgres_only
UNITS = 100
BUYERS = 1000
IN_FLIGHT = 32  # requests let in at once, as a proxy in front of the API would


@dataclass
class Arena:
    db: Database
    app: FastAPI
    store_id: int
    variant_id: int
    clerks: list[dict[str, str]]


@pytest.fixture
async def arena(tmp_path: Path) -> AsyncIterator[Arena]:
    url = await create_pg_database("o2o_orders")
    # As many connections as requests let in at once (below), so none waits for the pool.
    engine = create_engine(url, pool_size=IN_FLIGHT // 2)  # and as many again in overflow
    db = Database(engine, async_sessionmaker(engine, expire_on_commit=False))
    try:
        async with db.session() as session:
            shop = await make_shop(session, sizes=("M",))
            (variant,) = shop.variants
            await stock(session, store=shop.store, variant_id=variant.id, qty=UNITS)
            clerks = [
                (await make_staff(session, merchant=shop.merchant, role=MemberRole.CLERK))[1]
                for _ in range(4)
            ]
            await session.commit()
        settings = Settings(
            database_url="sqlite+aiosqlite://",  # unused: the app gets the real database
            data_dir=tmp_path,
            secret_key="test-secret-key-0123456789",
        )
        app = create_app(settings, database=db)
        yield Arena(db, app, shop.store.id, variant.id, clerks)
    finally:
        await db.dispose()
        await drop_pg_database(url)


async def _shoppers(db: Database, n: int) -> list[dict[str, str]]:
    """``n`` shoppers with API tokens (inserted directly: hashing 1,000 passwords is slow and
    beside the point)."""
    async with db.session() as session:
        ids = list(
            await session.scalars(
                insert(User).returning(User.id),
                [
                    {
                        "email": f"buyer{i}-{uuid.uuid4().hex[:6]}@example.test",
                        "display_name": f"Buyer {i}",
                        "password_hash": "!",
                    }
                    for i in range(n)
                ],
            )
        )
        headers = []
        for user_id in ids:
            token, _ = await accounts_service.issue_token(
                session, user_id=user_id, kind=TokenKind.API, ttl=timedelta(hours=1)
            )
            headers.append({"Authorization": f"Bearer {token}"})
        await session.commit()
    return headers


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=120
    )


async def test_flash_sale_sells_exactly_the_units(arena: Arena) -> None:
    shoppers = await _shoppers(arena.db, BUYERS)
    body = {
        "store_id": arena.store_id,
        "fulfilment": "pickup",
        "lines": [{"variant_id": arena.variant_id, "qty": 1}],
    }
    rng = random.Random(7)
    keys = [uuid.uuid4().hex for _ in shoppers]
    # A tenth of the buyers also retry at once with the same key (a double tap, a resend).
    retries = set(rng.sample(range(BUYERS), BUYERS // 10))
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def buy(i: int, client: httpx.AsyncClient) -> tuple[int, httpx.Response]:
        async with gate:
            headers = {**shoppers[i], "Idempotency-Key": keys[i]}
            return i, await client.post("/api/v1/orders", json=body, headers=headers)

    async with _client(arena.app) as client:
        jobs = [buy(i, client) for i in range(BUYERS)] + [buy(i, client) for i in retries]
        rng.shuffle(jobs)
        results = await asyncio.gather(*jobs)
        # Every retried key, asked again afterwards, answers what its first request did.
        replays = {i: await buy(i, client) for i in sorted(retries)[:50]}

    by_buyer: dict[int, list[httpx.Response]] = {}
    for i, response in results:
        by_buyer.setdefault(i, []).append(response)
    statuses = {r.status_code for _, r in results}
    assert statuses <= {201, 409}, {r.text for _, r in results if r.status_code not in (201, 409)}
    winners = {i for i, rs in by_buyer.items() if any(r.status_code == 201 for r in rs)}
    assert len(winners) == UNITS
    refused = [r.json()["code"] for _, r in results if r.status_code == 409]
    assert set(refused) <= {"insufficient_stock", "idempotency_in_flight"}
    for i, rs in by_buyer.items():
        created = [r for r in rs if r.status_code == 201]
        assert len({r.json()["id"] for r in created}) <= 1, f"buyer {i} got two orders"
    for i, (_, again) in replays.items():
        if i in winners:
            first = next(r for r in by_buyer[i] if r.status_code == 201)
            assert again.status_code == 201
            assert again.json()["id"] == first.json()["id"]
        else:
            assert again.status_code == 409

    async with arena.db.session() as session:
        orders = await session.scalar(select(func.count()).select_from(Order))
        level = await session.scalar(
            select(StockLevel).where(StockLevel.store_id == arena.store_id)
        )
        assert orders == UNITS
        assert level is not None
        assert (level.on_hand, level.reserved, level.available) == (UNITS, UNITS, 0)
        assert await inventory_queries.ledger_discrepancies(session) == []


async def _paid_order(arena: Arena) -> tuple[int, str, int]:
    """A paid pickup order of 1 unit: (order id, pickup code, shopper id)."""
    (headers,) = await _shoppers(arena.db, 1)
    async with _client(arena.app) as client:
        placed = await client.post(
            "/api/v1/orders",
            json={
                "store_id": arena.store_id,
                "fulfilment": "pickup",
                "lines": [{"variant_id": arena.variant_id, "qty": 1}],
            },
            headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        order_id = placed.json()["id"]
        started = await client.post(
            f"/api/v1/orders/{order_id}/payments", json={"provider": "demo"}, headers=headers
        )
        payment = started.json()
        await client.post(
            f"/api/v1/payments/demo/{payment['payment_id']}/confirm",
            json={"token": payment["qr_payload"].split("t=")[1]},
        )
        relay: Relay = arena.app.state.relay
        await relay.drain()
        order = (await client.get(f"/api/v1/orders/{order_id}", headers=headers)).json()
    assert order["status"] == "paid"
    return order_id, order["pickup_code"]["code"], placed.json()["id"]


async def test_code_redeemed_from_many_counters_succeeds_once(arena: Arena) -> None:
    order_id, code, _ = await _paid_order(arena)
    url = f"/api/v1/stores/{arena.store_id}/redemptions"
    async with _client(arena.app) as client:
        responses = await asyncio.gather(
            *(
                client.post(url, json={"code": code}, headers=arena.clerks[i % len(arena.clerks)])
                for i in range(24)
            )
        )
    ok = [r for r in responses if r.status_code == 200]
    assert len(ok) == 1, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code != 200} == {"already_redeemed"}
    async with arena.db.session() as session:
        order = await orders_service.get_order(session, order_id=order_id)
        assert order.status == OrderStatus.COLLECTED


async def test_notification_storm_pays_once(arena: Arena) -> None:
    (headers,) = await _shoppers(arena.db, 1)
    async with _client(arena.app) as client:
        placed = await client.post(
            "/api/v1/orders",
            json={
                "store_id": arena.store_id,
                "fulfilment": "pickup",
                "lines": [{"variant_id": arena.variant_id, "qty": 2}],
            },
            headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        order_id = placed.json()["id"]
        payment = (
            await client.post(
                f"/api/v1/orders/{order_id}/payments", json={"provider": "demo"}, headers=headers
            )
        ).json()
        wallet = demo_wallet.wallet_in(arena.app.state.payment_providers)
        async with arena.db.session() as session:
            await wallet.confirm(
                session,
                payment_id=payment["payment_id"],
                token=payment["qr_payload"].split("t=")[1],
            )
            await session.commit()
            signed = await wallet.notification_for(session, payment_id=payment["payment_id"])
        assert signed is not None
        body, sig = signed
        forged = body.replace(b'"amount":', b'"amount":1').replace(b'"amount":1', b'"amount":', 0)
        tampered = body.replace(str(payment["amount"]).encode(), b"1")
        bad_sig = {**sig, "O2O-Demo-Signature": sig["O2O-Demo-Signature"][:-4] + "0000"}
        notify = "/api/v1/payments/demo/notify"
        sends = [client.post(notify, content=body, headers=sig) for _ in range(16)]
        sends += [client.post(notify, content=tampered, headers=sig) for _ in range(4)]
        sends += [client.post(notify, content=forged, headers=bad_sig) for _ in range(4)]
        random.Random(3).shuffle(sends)
        responses = await asyncio.gather(*sends)
    assert {r.status_code for r in responses} <= {200, 400}
    async with arena.db.session() as session:
        order = await orders_service.get_order(session, order_id=order_id)
        assert order.status == OrderStatus.PAID
        level = await session.scalar(
            select(StockLevel).where(StockLevel.store_id == arena.store_id)
        )
        assert level is not None
        assert (level.on_hand, level.reserved) == (UNITS - 2, 0)
        outcomes = list(await session.scalars(select(PaymentNotification.outcome)))
        assert outcomes.count(NotificationOutcome.APPLIED) == 1
        assert outcomes.count(NotificationOutcome.REJECTED) == 8
        assert await inventory_queries.ledger_discrepancies(session) == []


async def test_expired_holds_always_come_back(arena: Arena) -> None:
    shoppers = await _shoppers(arena.db, 60)
    policy = OrderPolicy(reservation_ttl=timedelta(milliseconds=300))
    providers = arena.app.state.payment_providers
    relay: Relay = arena.app.state.relay

    async def order(i: int) -> int | None:
        async with arena.db.session() as session:
            user_id = await session.scalar(
                select(User.id).order_by(User.id.desc()).offset(i).limit(1)
            )
            assert user_id is not None
            try:
                (placed,) = await placement.place_orders(
                    session,
                    shopper_id=user_id,
                    policy=policy,
                    requests=[
                        OrderCreate(
                            store_id=arena.store_id,
                            fulfilment=Fulfilment.PICKUP,
                            lines=[LineIn(variant_id=arena.variant_id, qty=3)],
                        )
                    ],
                )
            except Exception:
                await session.rollback()
                return None
            await session.commit()
            return placed.id

    async def sweep(rounds: int) -> None:
        for _ in range(rounds):
            await relay.run_timers(force=True)
            await asyncio.sleep(0.05)

    async def cancel_some(ids: list[int | None]) -> None:
        for order_id in ids[::5]:
            if order_id is None:
                continue
            async with arena.db.session() as session:
                placed = await orders_service.get_order(session, order_id=order_id)
                try:
                    await orders_service.cancel(
                        session,
                        order=placed,
                        actor_user_id=None,
                        reason="changed my mind",
                        providers=providers,
                    )
                    await session.commit()
                except Exception:
                    await session.rollback()

    first = await asyncio.gather(*(order(i) for i in range(30)))
    second, _, _ = await asyncio.gather(
        asyncio.gather(*(order(i) for i in range(30, 60))), sweep(10), cancel_some(first)
    )
    assert any(first)
    assert any(second)
    await asyncio.sleep(0.4)
    await relay.run_timers(force=True)
    assert len(shoppers) == 60

    async with arena.db.session() as session:
        level = await session.scalar(
            select(StockLevel).where(StockLevel.store_id == arena.store_id)
        )
        assert level is not None
        live = await session.scalar(
            select(func.coalesce(func.sum(Reservation.qty), 0)).where(
                Reservation.status == ReservationStatus.HELD
            )
        )
        assert level.reserved == live == 0
        assert level.on_hand == UNITS
        expired = await session.scalar(
            select(func.count()).select_from(Order).where(Order.status == OrderStatus.EXPIRED)
        )
        placed_left = await session.scalar(
            select(func.count()).select_from(Order).where(Order.status == OrderStatus.PLACED)
        )
        assert expired
        assert placed_left == 0
        assert await reservations.expired_levels(session, now=utcnow()) == []
        assert await inventory_queries.ledger_discrepancies(session) == []


def _one_statement(arena: Arena, qty: int) -> OrderCreate:
    return OrderCreate(
        store_id=arena.store_id,
        fulfilment=Fulfilment.PICKUP,
        lines=[LineIn(variant_id=arena.variant_id, qty=qty)],
    )


async def test_the_one_statement_placement_on_its_own_is_all_or_nothing(arena: Arena) -> None:
    """With no transaction around it (no BEGIN, no COMMIT), the statement still writes all
    or nothing: many racing with one key make one order; a short level leaves no claimed
    key and no stock taken."""
    (headers,) = await _shoppers(arena.db, 1)
    async with arena.db.session() as session:
        shopper_id = (
            await accounts_service.principal_for_token(
                session, token=headers["Authorization"].split()[1], kind=TokenKind.API
            )
        ).user_id

    def once(key: str) -> placement_pg.Once:
        return placement_pg.Once("test|POST /orders", key, "hash-" + key, timedelta(hours=24))

    async def place(qty: int, key: str) -> object:
        async with arena.db.session() as session:
            return await placement_pg.place_once(
                session, shopper_id=shopper_id, data=_one_statement(arena, qty),
                policy=OrderPolicy(), once=once(key),
                render=lambda placed: {"id": placed[0].order.id},
            )  # fmt: skip

    same_key = uuid.uuid4().hex
    answers = await asyncio.gather(*(place(1, same_key) for _ in range(20)))
    assert len([a for a in answers if a is not None]) == 1
    assert await place(UNITS - 1, uuid.uuid4().hex) is not None  # the rest of the level
    short_key = uuid.uuid4().hex
    assert await place(1, short_key) is None

    async with arena.db.session() as session:
        level = await session.scalar(
            select(StockLevel).where(
                StockLevel.store_id == arena.store_id, StockLevel.variant_id == arena.variant_id
            )
        )
        assert level is not None
        assert (level.on_hand, level.reserved) == (UNITS, UNITS)
        assert await session.scalar(select(func.count()).select_from(Order)) == 2
        keys = set(await session.scalars(select(IdempotencyRecord.key)))
        assert same_key in keys
        assert short_key not in keys
        holds = await session.scalar(
            select(func.sum(Reservation.qty)).where(Reservation.status == ReservationStatus.HELD)
        )
        assert holds == UNITS
