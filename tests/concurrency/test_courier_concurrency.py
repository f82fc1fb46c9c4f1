"""Delivery invariants under real concurrency on PostgreSQL (real commits, many connections).

- Dispatch rounds racing never give one order to two couriers (every claim the rounds count
  is a delivery some courier holds, and each courier's count is what it holds).
- Claims racing for one courier never give it more than the bundle limit (3).
- Claims racing for one delivery give it to exactly one courier.
- Two couriers racing to pick up and hand over one delivery: only its courier, and once.
- Dispatch racing the store handing orders to its own staff: each order ends with one carrier.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from o2o.bootstrap import create_app
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.delivery import assign, by_store, couriers, rounds
from o2o.delivery.dispatch import DispatchConfig, dispatch
from o2o.delivery.models import MAX_OPEN, Courier, Delivery, DeliveryStatus
from o2o.delivery.policy import CourierPolicy
from o2o.orders.models import Fulfilment, Order, OrderStatus
from o2o.redemption.models import CodeKind, RedemptionCode
from o2o.regions.models import Region
from tests.conftest import fresh_pg_database
from tests.factories import make_merchant, make_region, make_store, make_user, token_for

pytestmark = pytest.mark.postgres_only
METRES_PER_DEGREE_LAT = 111_195.0


@dataclass
class Yard:
    db: Database
    app: FastAPI
    region_id: int
    courier_ids: list[int]
    courier_headers: list[dict[str, str]]
    delivery_ids: list[int]


async def _yard(db: Database, *, orders: int, fleet: int) -> Yard:
    """``orders`` ready delivery orders at one store and ``fleet`` couriers on shift beside it
    (rows written directly: the order path has its own concurrency tests)."""
    now = utcnow()
    async with db.session() as session:
        region = await make_region(session)
        merchant = await make_merchant(session)
        store = await make_store(session, merchant=merchant, region=region)
        shopper = await make_user(session)
        ids, headers = [], []
        for _ in range(fleet):
            user = await make_user(session, is_courier=True)
            await couriers.set_shift(session, user_id=user.id, on=True, region_id=region.id)
            courier = await couriers.profile(session, user_id=user.id)
            courier.last_lat, courier.last_lng, courier.last_seen_at = store.lat, store.lng, now
            ids.append(user.id)
            headers.append(await token_for(session, user))
        deliveries = []
        for i in range(orders):
            order = Order(
                checkout_ref=uuid.uuid4().hex[:20], region_id=region.id,
                merchant_id=merchant.id, store_id=store.id, shopper_id=shopper.id,
                fulfilment=Fulfilment.DELIVERY, status=OrderStatus.READY, currency="CNY",
                subtotal=1000, fee=600, total=1600,
                address={"text": f"door {i}"},
                # every door in another direction, 2 km out: no two share a trip
                address_lat=store.lat + 2000 * math.cos(2 * math.pi * i / orders)
                / METRES_PER_DEGREE_LAT,
                address_lng=store.lng + 2000 * math.sin(2 * math.pi * i / orders)
                / (METRES_PER_DEGREE_LAT * math.cos(math.radians(store.lat))),
                distance_m=2000,
                promised_at=now + timedelta(minutes=30), paid_at=now, ready_at=now,
            )  # fmt: skip
            session.add(order)
            await session.flush()
            made = await assign.request_delivery(session, order_id=order.id, now=now)
            assert made is not None
            deliveries.append(made.id)
        await session.commit()
    return Yard(db, _app(db), region.id, ids, headers, deliveries)


def _app(db: Database) -> FastAPI:
    settings = Settings(
        database_url="sqlite+aiosqlite://",  # unused: the app gets the real database
        data_dir=Path("/nonexistent-data-dir-unused"),
        secret_key="test-secret-key-0123456789",
    )
    return create_app(settings, database=db)


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    async with fresh_pg_database("o2o_couriers", pool_size=10) as database:
        yield database


async def _held(db: Database) -> dict[int, int]:
    async with db.session() as session:
        rows = await session.execute(
            select(Delivery.courier_id, func.count())
            .where(Delivery.status == DeliveryStatus.ASSIGNED)
            .group_by(Delivery.courier_id)
        )
        return {int(c): int(n) for c, n in rows.all()}


async def _counts(db: Database) -> dict[int, int]:
    async with db.session() as session:
        return {c.user_id: c.open_count for c in await session.scalars(select(Courier))}


async def test_racing_rounds_never_assign_an_order_twice(db: Database) -> None:
    yard = await _yard(db, orders=5, fleet=5)
    policy = CourierPolicy()
    now = utcnow()
    done = await asyncio.gather(*(rounds.run_round(db, policy=policy, now=now) for _ in range(4)))
    held = await _held(db)
    claimed = sum(r.assigned for r in done)
    assert claimed == sum(held.values())  # no claim counted twice
    assert claimed == 5  # every order was given out, each exactly once
    counts = await _counts(db)
    for courier_id in yard.courier_ids:
        assert counts[courier_id] == held.get(courier_id, 0) <= MAX_OPEN


async def test_racing_claims_never_overload_a_courier(db: Database) -> None:
    yard = await _yard(db, orders=8, fleet=1)
    (courier_id,) = yard.courier_ids

    async def claim(delivery_id: int) -> bool:
        async with db.session() as session:
            won = await assign.claim(
                session, courier_id=courier_id, delivery_ids=[delivery_id], now=utcnow()
            )
            await session.commit()
            return won

    won = await asyncio.gather(*(claim(d) for d in yard.delivery_ids))
    assert sum(won) == MAX_OPEN
    assert await _held(db) == {courier_id: MAX_OPEN}
    assert (await _counts(db))[courier_id] == MAX_OPEN


async def test_racing_claims_of_one_delivery_give_it_to_one_courier(db: Database) -> None:
    yard = await _yard(db, orders=1, fleet=6)
    (delivery_id,) = yard.delivery_ids

    async def claim(courier_id: int) -> bool:
        async with db.session() as session:
            won = await assign.claim(
                session, courier_id=courier_id, delivery_ids=[delivery_id], now=utcnow()
            )
            await session.commit()
            return won

    won = await asyncio.gather(*(claim(c) for c in yard.courier_ids))
    assert sum(won) == 1
    (winner,) = [c for c, w in zip(yard.courier_ids, won, strict=True) if w]
    assert await _held(db) == {winner: 1}
    assert sum((await _counts(db)).values()) == 1


async def test_two_couriers_racing_one_delivery_only_its_courier_moves_it_once(
    db: Database,
) -> None:
    yard = await _yard(db, orders=1, fleet=2)
    (delivery_id,) = yard.delivery_ids
    mine, theirs = yard.courier_headers
    async with db.session() as session:
        assert await assign.claim(
            session, courier_id=yard.courier_ids[0], delivery_ids=[delivery_id], now=utcnow()
        )
        delivery = await session.get(Delivery, delivery_id)
        assert delivery is not None
        code = await session.scalar(
            select(RedemptionCode.code).where(
                RedemptionCode.subject == f"order:{delivery.order_id}",
                RedemptionCode.kind == CodeKind.DELIVERY,
            )
        )
        await session.commit()
    base = f"/api/v1/couriers/me/deliveries/{delivery_id}"
    transport = httpx.ASGITransport(app=yard.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as c:
        for step, body in (("pickup", None), ("deliver", {"code": code})):
            answers = await asyncio.gather(
                *(
                    c.post(f"{base}/{step}", json=body, headers=headers)
                    for headers in [mine, theirs] * 4
                )
            )
            statuses = [a.status_code for a in answers]
            assert statuses[0::2].count(200) == 1, (step, statuses)
            assert set(statuses[0::2]) == {200, 409}, (step, [a.text for a in answers])
            assert set(statuses[1::2]) == {404}, step
    async with db.session() as session:
        final = await session.get(Delivery, delivery_id)
        assert final is not None
        order = await session.get(Order, final.order_id)
        assert order is not None
        assert (final.status, order.status) == (DeliveryStatus.DELIVERED, OrderStatus.DELIVERED)
        courier = await session.get(Courier, yard.courier_ids[0])
        assert courier is not None
        assert courier.open_count == 0


@pytest.mark.parametrize("own_staff", [False, True])
async def test_dispatch_racing_the_staff_hand_over_ends_with_one_of_them(
    db: Database, own_staff: bool
) -> None:
    # given ready orders and couriers beside the store
    yard = await _yard(db, orders=8, fleet=8)
    providers = yard.app.state.payment_providers
    async with db.session() as session:
        clerk = (await make_user(session)).id
        await session.commit()

    async def hand_over(delivery_id: int) -> None:
        async with db.session() as session:
            delivery = await session.get(Delivery, delivery_id)
            assert delivery is not None
            order = await session.get(Order, delivery.order_id)
            assert order is not None
            await by_store.transition(
                session, order=order, to=OrderStatus.OUT_FOR_DELIVERY, actor_user_id=clerk,
                providers=providers, own_staff=own_staff,
            )  # fmt: skip
            await session.commit()

    async def claim(courier_id: int, delivery_id: int) -> int:
        async with db.session() as session:
            won = await assign.claim(
                session, courier_id=courier_id, delivery_ids=[delivery_id], now=utcnow()
            )
            await session.commit()
            return int(won)

    # when a dispatch round plans on a snapshot of all eight, the store hands four over
    # before the round claims (the snapshot is stale for them), and the other four are
    # wanted at once by the round, a courier's direct claim and the store
    policy = CourierPolicy()
    async with db.session() as session:
        region = await session.get(Region, yard.region_id)
        assert region is not None
        seen = await rounds.snapshot(session, region=region, now=utcnow(), policy=policy)
    plan = dispatch(seen, DispatchConfig(round_seconds=policy.round_seconds))
    assert len(plan.assigned()) == len(yard.delivery_ids)
    await asyncio.gather(*(hand_over(d) for d in yard.delivery_ids[:4]))
    contested = list(zip(yard.courier_ids[4:], yard.delivery_ids[4:], strict=True))
    answers = await asyncio.gather(
        rounds.persist(db, plan, waiting={o.id for o in seen.orders}, now=utcnow()),
        *(claim(c, d) for c, d in contested),
        *(hand_over(d) for _, d in contested),
    )
    claimed = sum(a for a in answers if isinstance(a, int))
    # then each order is out with exactly one carrier: a courier or the store's staff
    held, counts = await _held(db), await _counts(db)
    by_staff = 0
    async with db.session() as session:
        for delivery_id in yard.delivery_ids:
            delivery = await session.get(Delivery, delivery_id, populate_existing=True)
            assert delivery is not None
            order = await session.get(Order, delivery.order_id, populate_existing=True)
            assert order is not None
            assert order.status == OrderStatus.OUT_FOR_DELIVERY
            if delivery.status == DeliveryStatus.BY_STORE:
                assert delivery.courier_id is None
                by_staff += 1
            else:  # a claim landed first and the goods went to that courier
                assert not own_staff
                assert delivery.status == DeliveryStatus.ASSIGNED
                assert delivery.courier_id in yard.courier_ids
    assert counts == {c: held.get(c, 0) for c in yard.courier_ids}  # held is what is counted
    assert by_staff + sum(held.values()) == len(yard.delivery_ids)
    if own_staff:  # the store took every order back from whoever held it
        assert held == {}
    else:
        assert sum(held.values()) == claimed
    assert by_staff >= 4  # the stale snapshot's claims of handed-over orders all failed
    # and no later round gives any of them to a courier
    assert (await rounds.run_round(db, policy=policy, now=utcnow())).assigned == 0
    assert await _held(db) == held
