"""Reservations: any interleaving of holds, releases, sales and expiry keeps the books.

After every step: ``reserved`` equals the live holds, ``on_hand`` equals the ledger, nothing
is negative, and a hold ends exactly once.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.inventory import queries as inventory_queries
from o2o.inventory import reservations
from o2o.inventory.exceptions import InsufficientStock
from o2o.inventory.models import Reservation, ReservationStatus, StockLevel
from tests.factories import stock
from tests.inventory.scene import make_shop


async def _live(session: AsyncSession, store_id: int, variant_id: int) -> int:
    return int(
        await session.scalar(
            select(func.coalesce(func.sum(Reservation.qty), 0)).where(
                Reservation.store_id == store_id,
                Reservation.variant_id == variant_id,
                Reservation.status == ReservationStatus.HELD,
            )
        )
        or 0
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_interleavings_keep_the_books(session: AsyncSession, seed: int) -> None:
    rng = random.Random(seed)
    shop = await make_shop(session, sizes=("S", "M"))
    for variant in shop.variants:
        await stock(session, store=shop.store, variant_id=variant.id, qty=6)
    now = utcnow()
    refs: list[str] = []
    for step in range(60):
        action = rng.choice(["reserve", "reserve", "release", "convert", "sweep", "tick"])
        if action == "reserve":
            ref = f"order:{step}"
            lines = [
                (v.id, rng.randint(1, 3)) for v in rng.sample(shop.variants, rng.randint(1, 2))
            ]
            try:
                async with session.begin_nested():
                    await reservations.reserve(
                        session,
                        store=shop.store,
                        lines=lines,
                        reference=ref,
                        expires_at=now + timedelta(minutes=rng.choice([1, 5, 15])),
                        now=now,
                    )
                refs.append(ref)
            except InsufficientStock:
                pass
        elif action == "release" and refs:
            await reservations.release(session, reference=rng.choice(refs), now=now)
        elif action == "convert" and refs:
            await reservations.convert(
                session, reference=rng.choice(refs), region_id=shop.region.id, now=now
            )
        elif action == "sweep":
            for store_id, variant_id in await reservations.expired_levels(session, now=now):
                await reservations.release_expired_at(
                    session, store_id=store_id, variant_id=variant_id, now=now
                )
        else:
            now += timedelta(minutes=rng.choice([1, 4]))
        for variant in shop.variants:
            level = await session.scalar(
                select(StockLevel)
                .where(StockLevel.store_id == shop.store.id, StockLevel.variant_id == variant.id)
                .execution_options(populate_existing=True)
            )
            assert level is not None
            assert level.reserved == await _live(session, shop.store.id, variant.id)
            assert 0 <= level.reserved <= level.on_hand
    assert await inventory_queries.ledger_discrepancies(session) == []


async def test_a_short_level_takes_back_expired_holds(session: AsyncSession) -> None:
    shop = await make_shop(session, sizes=("M",))
    (m,) = shop.variants
    await stock(session, store=shop.store, variant_id=m.id, qty=2)
    now = utcnow()
    await reservations.reserve(
        session,
        store=shop.store,
        lines=[(m.id, 2)],
        reference="order:1",
        expires_at=now + timedelta(minutes=15),
        now=now,
    )
    with pytest.raises(InsufficientStock) as refused:
        async with session.begin_nested():
            await reservations.reserve(
                session,
                store=shop.store,
                lines=[(m.id, 1)],
                reference="order:2",
                expires_at=now,
                now=now,
            )
    assert refused.value.extra["available"] == 0
    later = now + timedelta(minutes=16)
    # No sweeper has run, yet the abandoned hold does not block the next buyer.
    await reservations.reserve(
        session,
        store=shop.store,
        lines=[(m.id, 1)],
        reference="order:3",
        expires_at=later + timedelta(minutes=15),
        now=later,
    )
    assert await reservations.held_of(session, reference="order:1") == []
    assert await _live(session, shop.store.id, m.id) == 1
    assert await reservations.release(session, reference="order:1", now=later) == []
