"""Manual reassignment under real concurrency on PostgreSQL (real commits, many connections).

- Reassignments of one delivery to different couriers racing each other and a dispatch claim:
  the delivery ends with exactly one courier, and every courier's count is what it holds.
- Reassignments and a claim racing for the last place of a courier: it never goes over the
  bundle limit, and what was refused stays where it was.
- Through HTTP: racing admins get 200 or 409 answers, never a 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.core.errors import DomainError
from o2o.delivery import assign, couriers
from o2o.delivery.models import ACTIVE, MAX_OPEN, Delivery, DeliveryStatus
from tests.concurrency.test_courier_concurrency import _counts, _yard
from tests.conftest import fresh_pg_database
from tests.factories import make_user, token_for

pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    async with fresh_pg_database("o2o_reassign", pool_size=12) as database:
        yield database


async def _holders(db: Database) -> dict[int, int | None]:
    async with db.session() as session:
        rows = await session.execute(select(Delivery.id, Delivery.courier_id, Delivery.status))
        return {d: c for d, c, s in rows.all() if s in ACTIVE or s == DeliveryStatus.REQUESTED}


async def _active_per_courier(db: Database) -> dict[int, int]:
    async with db.session() as session:
        rows = await session.execute(select(Delivery.courier_id).where(Delivery.status.in_(ACTIVE)))
        held: dict[int, int] = {}
        for (courier_id,) in rows.all():
            held[courier_id] = held.get(courier_id, 0) + 1
        return held


async def _reassign(db: Database, delivery_id: int, courier_id: int) -> bool:
    async with db.session() as session:
        try:
            await assign.reassign(
                session, delivery_id=delivery_id, courier_id=courier_id, now=utcnow()
            )
        except DomainError:
            await session.rollback()
            return False
        await session.commit()
        return True


async def _claim(db: Database, delivery_ids: list[int], courier_id: int) -> bool:
    async with db.session() as session:
        won = await assign.claim(
            session, courier_id=courier_id, delivery_ids=delivery_ids, now=utcnow()
        )
        await session.commit()
        return won


async def test_racing_reassignments_and_a_claim_leave_one_courier(db: Database) -> None:
    yard = await _yard(db, orders=8, fleet=4)
    a, b, c, d = yard.courier_ids
    for i, delivery_id in enumerate(yard.delivery_ids):
        if i % 2:  # every other one starts held by ``a``, the others wait for a courier
            assert await _claim(db, [delivery_id], a)
        results = await asyncio.gather(
            _reassign(db, delivery_id, b),
            _claim(db, [delivery_id], d),
            _reassign(db, delivery_id, c),
            _reassign(db, delivery_id, b),
            _reassign(db, delivery_id, a),
        )
        assert any(results)  # reassignments never lose to each other: the last one wins
        holders = await _holders(db)
        assert holders[delivery_id] in (a, b, c, d)
        held = await _active_per_courier(db)
        counts = await _counts(db)
        for courier_id in yard.courier_ids:
            assert counts[courier_id] == held.get(courier_id, 0) <= MAX_OPEN
        # Hand the courier's load back, so that the next round starts with room for all.
        async with db.session() as session:
            await assign.release_held(
                session, courier_id=holders[delivery_id] or a, now=utcnow(), reason="next"
            )
            await session.commit()
    assert sum((await _counts(db)).values()) == 0


async def test_racing_for_a_couriers_last_place_never_overloads_it(db: Database) -> None:
    yard = await _yard(db, orders=MAX_OPEN + 3, fleet=2)
    full, other = yard.courier_ids
    first, *rest = yard.delivery_ids
    kept = rest[: MAX_OPEN - 2]
    racing = rest[MAX_OPEN - 2 :]
    assert await _claim(db, [first, *kept], full)  # one place left
    assert await _claim(db, [racing[0]], other)  # one of the racers starts with the other
    results = await asyncio.gather(
        *(_reassign(db, delivery_id, full) for delivery_id in racing[:-1]),
        _claim(db, [racing[-1]], full),
    )
    assert sum(results) == 1
    counts = await _counts(db)
    held = await _active_per_courier(db)
    assert counts[full] == held[full] == MAX_OPEN
    assert counts[other] == held.get(other, 0)
    holders = await _holders(db)
    moved = [r for r in racing if holders[r] == full]
    assert len(moved) == 1
    if racing[0] not in moved:  # refused: still with the courier it was with
        assert holders[racing[0]] == other


async def test_racing_admins_through_http_get_answers_never_errors(db: Database) -> None:
    yard = await _yard(db, orders=3, fleet=4)
    async with db.session() as session:
        admin = await token_for(session, await make_user(session, is_platform_admin=True))
        await session.commit()
    transport = httpx.ASGITransport(app=yard.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as c:
        for delivery_id in yard.delivery_ids:
            url = f"/api/v1/admin/deliveries/{delivery_id}/reassign"
            answers, won = await asyncio.gather(
                asyncio.gather(
                    *(
                        c.post(url, json={"courier_id": courier_id}, headers=admin)
                        for courier_id in yard.courier_ids * 2
                    )
                ),
                _claim(db, [delivery_id], yard.courier_ids[0]),
            )
            assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers]
            assert any(a.status_code == 200 for a in answers) or won
    held = await _active_per_courier(db)
    counts = await _counts(db)
    assert sum(held.values()) == len(yard.delivery_ids)
    for courier_id in yard.courier_ids:
        assert counts[courier_id] == held.get(courier_id, 0) <= MAX_OPEN


async def test_reassigning_while_the_old_courier_goes_off_shift(db: Database) -> None:
    """The old courier's shift ends (its held deliveries go back) while an operator moves
    them: each delivery ends held once or waiting, and neither side fails."""
    yard = await _yard(db, orders=MAX_OPEN * 4, fleet=5)
    leaving, *others = yard.courier_ids
    for round_ in range(4):
        batch = yard.delivery_ids[round_ * MAX_OPEN : (round_ + 1) * MAX_OPEN]
        async with db.session() as session:
            await couriers.set_shift(session, user_id=leaving, on=True)
            await session.commit()
        assert await _claim(db, batch, leaving)

        async def off() -> None:
            async with db.session() as session:
                await couriers.set_shift(session, user_id=leaving, on=False)
                await session.commit()

        await asyncio.gather(
            off(),
            *(_reassign(db, d, others[i % len(others)]) for i, d in enumerate(batch)),
        )
        held = await _active_per_courier(db)
        counts = await _counts(db)
        assert held.get(leaving, 0) == counts[leaving] == 0
        for courier_id in others:
            assert counts[courier_id] == held.get(courier_id, 0) <= MAX_OPEN
        async with db.session() as session:  # room again for the next round
            for courier_id in others:
                await assign.release_held(session, courier_id=courier_id, now=utcnow(), reason="")
            await session.commit()


async def _unassign(db: Database, delivery_id: int) -> bool:
    async with db.session() as session:
        try:
            await assign.unassign(session, delivery_id=delivery_id, now=utcnow())
        except DomainError:
            await session.rollback()
            return False
        await session.commit()
        return True


async def test_sending_back_racing_reassignments_and_claims_keeps_the_counts(
    db: Database,
) -> None:
    """Operators sending a delivery back to dispatch while others give it to couriers and a
    round claims it: it ends waiting or with exactly one courier, and every courier's count is
    what it holds."""
    yard = await _yard(db, orders=8, fleet=4)
    a, b, c, d = yard.courier_ids
    for i, delivery_id in enumerate(yard.delivery_ids):
        if i % 2:
            assert await _claim(db, [delivery_id], a)
        results = await asyncio.gather(
            _unassign(db, delivery_id),
            _reassign(db, delivery_id, b),
            _claim(db, [delivery_id], d),
            _unassign(db, delivery_id),
            _reassign(db, delivery_id, c),
            _unassign(db, delivery_id),
        )
        assert all(results[i] for i in (0, 3, 5))  # sending back is never refused here
        holders = await _holders(db)
        assert holders[delivery_id] in (None, a, b, c, d)
        held = await _active_per_courier(db)
        counts = await _counts(db)
        for courier_id in yard.courier_ids:
            assert counts[courier_id] == held.get(courier_id, 0) <= MAX_OPEN
        assert await _unassign(db, delivery_id)  # room again for the next one
    assert sum((await _counts(db)).values()) == 0
    assert set((await _holders(db)).values()) == {None}
