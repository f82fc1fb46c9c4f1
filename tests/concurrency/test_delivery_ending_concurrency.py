"""An order ending before the hand-over, racing dispatch, on PostgreSQL (real commits, many
connections): never a courier holding a cancelled order.

- Dispatch (a round's stale plan and couriers' direct claims) racing the store's rejections:
  every delivery ends cancelled with no courier, and every courier's count is zero.
- An operator's reassignments racing the shopper's cancellations: the same.
- The worker's delivery request racing the rejection: either no delivery is made, or it is
  made and cancelled; never one left waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, select, update

from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.core.errors import DomainError
from o2o.delivery import assign, by_store, ending, rounds
from o2o.delivery.dispatch import DispatchConfig, dispatch
from o2o.delivery.models import ACTIVE, Delivery, DeliveryStatus
from o2o.delivery.policy import CourierPolicy
from o2o.orders.models import Order, OrderStatus
from o2o.payments.service import Providers
from o2o.regions.models import Region
from tests.concurrency.test_courier_concurrency import Yard, _counts, _yard
from tests.conftest import fresh_pg_database
from tests.factories import make_user

pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    async with fresh_pg_database("o2o_ending", pool_size=16) as database:
        yield database


async def _set_status(db: Database, yard: Yard, status: OrderStatus) -> None:
    async with db.session() as session:
        await session.execute(
            update(Order).where(Order.region_id == yard.region_id).values(status=status)
        )
        await session.commit()


async def _clerk(db: Database) -> int:
    async with db.session() as session:
        user_id = (await make_user(session)).id
        await session.commit()
        return user_id


async def _order_of(db: Database, delivery_id: int) -> int:
    async with db.session() as session:
        order_id = await session.scalar(select(Delivery.order_id).where(Delivery.id == delivery_id))
        assert order_id is not None
        return order_id


async def _reject(db: Database, order_id: int, clerk: int, providers: Providers) -> bool:
    async with db.session() as session:
        order = await session.get(Order, order_id)
        assert order is not None
        try:
            await by_store.transition(
                session, order=order, to=OrderStatus.REJECTED, actor_user_id=clerk,
                reason="out of bags", providers=providers,
            )  # fmt: skip
        except DomainError:
            await session.rollback()
            return False
        await session.commit()
        return True


async def _claim(db: Database, courier_id: int, delivery_ids: list[int]) -> int:
    async with db.session() as session:
        won = await assign.claim(
            session, courier_id=courier_id, delivery_ids=delivery_ids, now=utcnow()
        )
        await session.commit()
        return int(won)


async def _all_cancelled_and_nobody_holds(db: Database, yard: Yard) -> None:
    async with db.session() as session:
        rows = (
            await session.execute(
                select(Delivery, Order.status).join(Order, Order.id == Delivery.order_id)
            )
        ).all()
        assert len(rows) == len(yard.delivery_ids)
        for delivery, order_status in rows:
            assert order_status in ending.ENDED
            assert delivery.status == DeliveryStatus.CANCELLED, delivery.id
            assert delivery.courier_id is None
        held = await session.scalar(
            select(Delivery.id).where(Delivery.status.in_([*ACTIVE, DeliveryStatus.REQUESTED]))
        )
        assert held is None
    assert set((await _counts(db)).values()) == {0}


async def test_dispatch_racing_the_rejection_never_leaves_a_courier_with_it(
    db: Database,
) -> None:
    # given accepted delivery orders waiting for a courier, and couriers beside the store
    yard = await _yard(db, orders=9, fleet=9)
    await _set_status(db, yard, OrderStatus.ACCEPTED)
    providers = yard.app.state.payment_providers
    clerk = await _clerk(db)
    orders = [await _order_of(db, d) for d in yard.delivery_ids]
    # a round plans on a snapshot of all of them (it will be stale by the time it claims)
    policy = CourierPolicy()
    async with db.session() as session:
        region = await session.get(Region, yard.region_id)
        assert region is not None
        seen = await rounds.snapshot(session, region=region, now=utcnow(), policy=policy)
    plan = dispatch(seen, DispatchConfig(round_seconds=policy.round_seconds))
    assert plan.assigned()
    # when the first three are claimed first, and for all of them the round's plan, direct
    # claims and the store's rejection race
    for courier_id, delivery_id in zip(yard.courier_ids[:3], yard.delivery_ids[:3], strict=True):
        assert await _claim(db, courier_id, [delivery_id])
    answers = await asyncio.gather(
        rounds.persist(db, plan, waiting={o.id for o in seen.orders}, now=utcnow()),
        *(
            _claim(db, c, [d])
            for c, d in zip(yard.courier_ids[3:], yard.delivery_ids[3:], strict=True)
        ),
        *(_reject(db, o, clerk, providers) for o in orders),
    )
    # then every rejection went through, and no courier holds any of them
    assert all(answers[-len(orders) :])
    await _all_cancelled_and_nobody_holds(db, yard)


async def test_reassignments_racing_the_shoppers_cancellation(db: Database) -> None:
    yard = await _yard(db, orders=6, fleet=4)
    await _set_status(db, yard, OrderStatus.PAID)
    providers = yard.app.state.payment_providers
    orders = [await _order_of(db, d) for d in yard.delivery_ids]
    async with db.session() as session:
        shopper = await session.scalar(select(Order.shopper_id).where(Order.id == orders[0]))
        assert shopper is not None

    async def reassign(delivery_id: int, courier_id: int) -> None:
        async with db.session() as session:
            try:
                await assign.reassign(
                    session, delivery_id=delivery_id, courier_id=courier_id, now=utcnow()
                )
            except DomainError:
                await session.rollback()
                return
            await session.commit()

    async def cancel(order_id: int) -> None:
        async with db.session() as session:
            order = await session.get(Order, order_id)
            assert order is not None
            await ending.cancel(
                session, order=order, actor_user_id=shopper, reason="", providers=providers
            )
            await session.commit()

    a, b, c, d = yard.courier_ids
    for i, delivery_id in enumerate(yard.delivery_ids):
        if i % 2:  # every other one starts held
            assert await _claim(db, a, [delivery_id])
        await asyncio.gather(
            reassign(delivery_id, b),
            reassign(delivery_id, c),
            cancel(orders[i]),
            reassign(delivery_id, d),
            _claim(db, a, [delivery_id]),
        )
    await _all_cancelled_and_nobody_holds(db, yard)


async def test_the_delivery_request_racing_the_rejection_leaves_none_waiting(
    db: Database,
) -> None:
    # given paid delivery orders whose delivery request the worker has not handled yet
    yard = await _yard(db, orders=10, fleet=1)
    await _set_status(db, yard, OrderStatus.PAID)
    providers = yard.app.state.payment_providers
    clerk = await _clerk(db)
    orders = [await _order_of(db, d) for d in yard.delivery_ids]
    async with db.session() as session:
        await session.execute(delete(Delivery))
        await session.commit()

    async def request(order_id: int) -> None:
        async with db.session() as session:
            await assign.request_delivery(session, order_id=order_id, now=utcnow())
            await session.commit()

    # when the request and the store's rejection race for each
    await asyncio.gather(
        *(request(o) for o in orders), *(_reject(db, o, clerk, providers) for o in orders)
    )
    # then no delivery of a rejected order waits for a courier
    async with db.session() as session:
        statuses = list(await session.scalars(select(Delivery.status)))
        assert all(s == DeliveryStatus.CANCELLED for s in statuses), statuses
        rejected = await session.scalar(
            select(Order.id).where(Order.id.in_(orders), Order.status != OrderStatus.REJECTED)
        )
        assert rejected is None
