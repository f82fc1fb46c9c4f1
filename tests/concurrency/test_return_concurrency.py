"""Returns under real concurrency on PostgreSQL (real commits, many connections).

Many desks at two stores take back units of the same order line at once, some returning for
a refund and some exchanging, some retrying with the same key: no unit comes back twice, the
refunds never exceed what was paid (and add up to exactly the total once everything is back),
every unit is on the shelf of the store that took it, and the ledger reconciles.
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

from o2o.accounts import service as accounts_service
from o2o.accounts.models import MemberRole, TokenKind, User
from o2o.bootstrap import create_app
from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.inventory import queries as inventory_queries
from o2o.inventory.models import StockLevel
from o2o.orders.models import Order, OrderLine
from o2o.orders.returns_models import OrderReturn, OrderReturnLine
from o2o.payments.models import Payment, Refund
from o2o.worker.relay import Relay
from tests.conftest import create_pg_database, drop_pg_database
from tests.factories import make_staff, make_store, stock
from tests.inventory.scene import make_shop

pytestmark = pytest.mark.postgres_only
SOLD = 12
STOCK = 50


@dataclass
class Counter:
    db: Database
    app: FastAPI
    stores: list[int]
    clerks: list[dict[str, str]]  # one per store, scoped to it
    m: int
    lv: int


@pytest.fixture
async def counter(tmp_path: Path) -> AsyncIterator[Counter]:
    url = await create_pg_database("o2o_returns")
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            shop = await make_shop(session, sizes=("M", "L"))
            other = await make_store(session, merchant=shop.merchant, region=shop.region)
            clerks = []
            for store in (shop.store, other):
                for variant in shop.variants:
                    await stock(session, store=store, variant_id=variant.id, qty=STOCK)
                clerks.append(
                    (
                        await make_staff(
                            session,
                            merchant=shop.merchant,
                            role=MemberRole.CLERK,
                            store_ids=[store.id],
                        )
                    )[1]
                )
            await session.commit()
            m, lv = (v.id for v in shop.variants)
        settings = Settings(
            database_url="sqlite+aiosqlite://",  # unused: the app gets the real database
            data_dir=tmp_path,
            secret_key="test-secret-key-0123456789",
        )
        app = create_app(settings, database=db)
        yield Counter(db, app, [shop.store.id, other.id], clerks, m, lv)
    finally:
        await db.dispose()
        await drop_pg_database(url)


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=120
    )


async def _collected(c: Counter, client: httpx.AsyncClient) -> tuple[int, int]:
    """A pickup order of ``SOLD`` units of M, paid and collected: (order id, line id)."""
    async with c.db.session() as session:
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
    shopper = {"Authorization": f"Bearer {token}"}
    placed = await client.post(
        "/api/v1/orders",
        json={
            "store_id": c.stores[0],
            "fulfilment": "pickup",
            "lines": [{"variant_id": c.m, "qty": SOLD}],
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
    relay: Relay = c.app.state.relay
    await relay.drain()
    code = (await client.get(f"/api/v1/orders/{order['id']}", headers=shopper)).json()[
        "pickup_code"
    ]["code"]
    redeemed = await client.post(
        f"/api/v1/stores/{c.stores[0]}/redemptions", json={"code": code}, headers=c.clerks[0]
    )
    assert redeemed.json()["order"]["status"] == "collected", redeemed.text
    return order["id"], order["lines"][0]["id"]


async def test_racing_desks_never_take_a_unit_back_twice_nor_refund_more_than_paid(
    counter: Counter,
) -> None:
    rng = random.Random(5)
    async with _client(counter.app) as client:
        order_id, line_id = await _collected(counter, client)

        def body(qty: int, exchange: bool) -> dict[str, object]:
            out: dict[str, object] = {
                "order_id": order_id,
                "lines": [{"line_id": line_id, "qty": qty}],
                "reason": "race",
                "kind": "exchange" if exchange else "return",
            }
            if exchange:
                out["exchange_to"] = [{"line_id": line_id, "variant_id": counter.lv}]
            return out

        jobs = []
        for n in range(40):
            desk = n % 2
            request = body(rng.choice([1, 1, 2, 3]), exchange=n % 5 == 0)
            headers = {**counter.clerks[desk], "Idempotency-Key": f"race-{n}"}
            jobs.append((desk, request, headers))
        jobs += [jobs[i] for i in rng.sample(range(40), 8)]  # double taps with the same key
        rng.shuffle(jobs)
        responses = await asyncio.gather(
            *(
                client.post(f"/api/v1/stores/{counter.stores[d]}/returns", json=b, headers=h)
                for d, b, h in jobs
            )
        )
        fresh = [
            (d, r)
            for (d, _, _), r in zip(jobs, responses, strict=True)
            if r.status_code == 201 and "idempotent-replayed" not in r.headers
        ]
        assert {r.status_code for r in responses} <= {201, 409}, [
            r.text for r in responses if r.status_code not in (201, 409)
        ]
        assert {r.json()["code"] for r in responses if r.status_code == 409} <= {
            "return_exceeds_quantity",
            "idempotency_in_flight",
        }
        assert len({r.json()["id"] for _, r in fresh}) == len(fresh)
        # ~70 units asked for, 12 sold: most desks were refused, as they should be
        refused = [r for r in responses if r.status_code == 409]
        assert sum(r.json()["code"] == "return_exceeds_quantity" for r in refused) > 10

        # Whatever is left comes back now, in one go, at the first store
        async with counter.db.session() as session:
            left = await session.scalar(
                select(OrderLine.qty - OrderLine.returned_qty).where(OrderLine.id == line_id)
            )
        assert left is not None
        assert left >= 0
        if left:
            last = await client.post(
                f"/api/v1/stores/{counter.stores[0]}/returns",
                json=body(left, exchange=False),
                headers={**counter.clerks[0], "Idempotency-Key": "the-rest"},
            )
            assert last.status_code == 201, last.text
            fresh.append((0, last))

    took = [sum(r.json()["lines"][0]["qty"] for d, r in fresh if d == desk) for desk in (0, 1)]
    exchanged = [
        sum(
            r.json()["lines"][0]["qty"]
            for d, r in fresh
            if d == desk and r.json()["kind"] == "exchange"
        )
        for desk in (0, 1)
    ]
    async with counter.db.session() as session:
        order = await session.get(Order, order_id)
        assert order is not None
        payment = await session.get(Payment, order.payment_id)
        assert payment is not None
        line = await session.get(OrderLine, line_id)
        assert line is not None
        # No unit came back twice: what the desks took is exactly what was sold
        assert line.returned_qty == line.qty == sum(took) == SOLD
        records = await session.scalar(select(func.count()).select_from(OrderReturn))
        units = await session.scalar(select(func.sum(OrderReturnLine.qty)))
        assert records == len(fresh)
        # Exchanged units were returned in turn (their replacement lines are still out)
        replacements = await session.scalar(
            select(func.coalesce(func.sum(OrderLine.qty), 0)).where(
                OrderLine.order_id == order_id, OrderLine.id != line_id
            )
        )
        assert replacements == sum(exchanged)
        assert units == SOLD
        # Never more refunded than paid; the value of everything returned for money, exactly
        refunded = await session.scalar(select(func.sum(Refund.amount)))
        kept = replacements * line.unit_price
        assert order.refunded == payment.refunded == refunded == order.total - kept
        assert payment.refunded <= payment.amount
        for desk, store_id in enumerate(counter.stores):
            levels = dict(
                (
                    await session.execute(
                        select(StockLevel.variant_id, StockLevel.on_hand).where(
                            StockLevel.store_id == store_id
                        )
                    )
                ).all()
            )
            sold_here = SOLD if desk == 0 else 0
            assert levels[counter.m] == STOCK - sold_here + took[desk]
            assert levels[counter.lv] == STOCK - exchanged[desk]
        assert await inventory_queries.ledger_discrepancies(session) == []
