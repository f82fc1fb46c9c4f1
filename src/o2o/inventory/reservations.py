"""Units promised to an order (or a hold) before they are sold.

A reservation adds to ``StockLevel.reserved`` and so takes the units out of ``available``
for everyone else; the increment is a conditional update (``WHERE on_hand - reserved >=
qty``), so a unit is never promised twice. A reservation ends exactly once, by a
conditional update of its status: converted into a sale, or released.

Expired reservations are released by the sweeper (``release_expired``) and, so that an
abandoned checkout never makes a buyer wait for the sweeper, by ``reserve`` itself when a
level it needs is short and holds on it have expired.

Lock order, everywhere: stock levels by (store, variant), then reservation rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.inventory.exceptions import InsufficientStock, InvalidQuantity
from o2o.inventory.models import (
    MovementKind,
    Reservation,
    ReservationStatus,
    StockLevel,
    StockMovement,
)
from o2o.inventory.schemas import MAX_QTY
from o2o.merchants.models import Store


@dataclass(frozen=True, order=True)
class Held:
    """A reservation that ended (converted or released), as the level saw it."""

    store_id: int
    variant_id: int
    qty: int


def _merge(lines: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    total: dict[int, int] = defaultdict(int)
    for variant_id, qty in lines:
        if not 1 <= qty <= MAX_QTY:
            raise InvalidQuantity(f"qty must be between 1 and {MAX_QTY}.", field="qty")
        total[variant_id] += qty
    return sorted(total.items())


async def _lock_levels(session: AsyncSession, pairs: Iterable[tuple[int, int]]) -> None:
    for store_id, variant_id in sorted(set(pairs)):
        await session.execute(
            select(StockLevel.id)
            .where(StockLevel.store_id == store_id, StockLevel.variant_id == variant_id)
            .with_for_update()
        )


async def _take(session: AsyncSession, *, store_id: int, variant_id: int, qty: int) -> bool:
    row = (
        await session.execute(
            update(StockLevel)
            .where(
                StockLevel.store_id == store_id,
                StockLevel.variant_id == variant_id,
                StockLevel.on_hand - StockLevel.reserved >= qty,
            )
            .values(reserved=StockLevel.reserved + qty)
            .returning(StockLevel.id)
        )
    ).one_or_none()
    return row is not None


async def _has_expired(
    session: AsyncSession, *, store_id: int, variant_id: int, now: datetime, besides: str
) -> bool:
    found = await session.scalar(
        select(Reservation.id)
        .where(
            Reservation.store_id == store_id,
            Reservation.variant_id == variant_id,
            Reservation.status == ReservationStatus.HELD,
            Reservation.expires_at <= now,
            Reservation.reference != besides,
        )
        .limit(1)
    )
    return found is not None


async def _end_expired(
    session: AsyncSession, *, store_id: int, variant_id: int, now: datetime, besides: str = ""
) -> int:
    """Release this level's expired holds (but those of ``besides``, being written now and
    not yet counted); the caller holds the level's lock. Units freed."""
    freed = list(
        await session.scalars(
            update(Reservation)
            .where(
                Reservation.store_id == store_id,
                Reservation.variant_id == variant_id,
                Reservation.status == ReservationStatus.HELD,
                Reservation.expires_at <= now,
                Reservation.reference != besides,
            )
            .values(status=ReservationStatus.RELEASED, ended_at=now)
            .returning(Reservation.qty)
        )
    )
    if freed:
        await session.execute(
            update(StockLevel)
            .where(StockLevel.store_id == store_id, StockLevel.variant_id == variant_id)
            .values(reserved=StockLevel.reserved - sum(freed))
        )
    return sum(freed)


async def reserve(
    session: AsyncSession,
    *,
    store: Store,
    lines: Iterable[tuple[int, int]],
    reference: str,
    expires_at: datetime,
    now: datetime | None = None,
) -> None:
    """Hold ``(variant_id, qty)`` lines at ``store`` for ``reference`` until ``expires_at``.

    All or nothing: raises ``InsufficientStock`` (naming the first short variant and what is
    available) and the caller rolls back. The hold rows are written first and the levels
    updated last, so a level's row lock is held from here to the caller's commit only.
    """
    now = now or utcnow()
    merged = _merge(lines)
    session.add_all(
        Reservation(
            store_id=store.id,
            variant_id=variant_id,
            qty=qty,
            reference=reference,
            expires_at=expires_at,
            status=ReservationStatus.HELD,
        )
        for variant_id, qty in merged
    )
    await session.flush()
    for variant_id, qty in merged:
        if not await _take(session, store_id=store.id, variant_id=variant_id, qty=qty):
            # Lock the level to sweep it only if there is an expired hold to sweep: a sold-out
            # level refuses at once instead of queueing every refusal on its row lock (a
            # flash sale's hundreds of refusals otherwise serialize there). No hold can
            # become expired-at-``now`` after this read: new holds expire in the future.
            freed = 0
            here = {"store_id": store.id, "variant_id": variant_id}
            if await _has_expired(session, **here, now=now, besides=reference):
                await _lock_levels(session, [(store.id, variant_id)])
                freed = await _end_expired(session, **here, now=now, besides=reference)
            if not freed or not await _take(
                session, store_id=store.id, variant_id=variant_id, qty=qty
            ):
                available = await session.scalar(
                    select(StockLevel.available).where(
                        StockLevel.store_id == store.id, StockLevel.variant_id == variant_id
                    )
                )
                raise InsufficientStock(
                    f"Only {available or 0} of variant {variant_id} available at this store.",
                    field="lines",
                    store_id=store.id,
                    variant_id=variant_id,
                    available=available or 0,
                )


async def _end(
    session: AsyncSession, *, reference: str, to: ReservationStatus, now: datetime
) -> list[Held]:
    pending = (
        await session.execute(
            select(Reservation.store_id, Reservation.variant_id).where(
                Reservation.reference == reference, Reservation.status == ReservationStatus.HELD
            )
        )
    ).all()
    if not pending:
        return []
    await _lock_levels(session, [(row.store_id, row.variant_id) for row in pending])
    ended = (
        await session.execute(
            update(Reservation)
            .where(Reservation.reference == reference, Reservation.status == ReservationStatus.HELD)
            .values(status=to, ended_at=now)
            .returning(Reservation.store_id, Reservation.variant_id, Reservation.qty)
        )
    ).all()
    return sorted(Held(r.store_id, r.variant_id, r.qty) for r in ended) if ended else []


async def release(
    session: AsyncSession, *, reference: str, now: datetime | None = None
) -> list[Held]:
    """Give back every live hold of ``reference``; a second call releases nothing."""
    now = now or utcnow()
    ended = await _end(session, reference=reference, to=ReservationStatus.RELEASED, now=now)
    for held in ended:
        await session.execute(
            update(StockLevel)
            .where(StockLevel.store_id == held.store_id, StockLevel.variant_id == held.variant_id)
            .values(reserved=StockLevel.reserved - held.qty)
        )
    return ended


async def convert(
    session: AsyncSession,
    *,
    reference: str,
    region_id: int,
    kind: MovementKind = MovementKind.SALE,
    actor_user_id: int | None = None,
    now: datetime | None = None,
) -> list[Held]:
    """Turn the live holds of ``reference`` into a sale: on hand and reserved both go down,
    and the ledger records the sale. Holds that already ended are not returned: the caller
    takes those units afresh (``inventory.service.remove_stock``) or gives up."""
    now = now or utcnow()
    ended = await _end(session, reference=reference, to=ReservationStatus.CONVERTED, now=now)
    for held in ended:
        on_hand = (
            await session.execute(
                update(StockLevel)
                .where(
                    StockLevel.store_id == held.store_id, StockLevel.variant_id == held.variant_id
                )
                .values(
                    on_hand=StockLevel.on_hand - held.qty,
                    reserved=StockLevel.reserved - held.qty,
                )
                .returning(StockLevel.on_hand)
            )
        ).scalar_one()
        session.add(
            StockMovement(
                store_id=held.store_id,
                variant_id=held.variant_id,
                region_id=region_id,
                kind=kind,
                qty_delta=-held.qty,
                on_hand_after=on_hand,
                reference=reference,
                note="",
                actor_user_id=actor_user_id,
            )
        )
    await session.flush()
    return ended


async def extend(session: AsyncSession, *, reference: str, expires_at: datetime) -> int:
    """Move the expiry of the live holds of ``reference``; how many were moved."""
    result = await session.execute(
        update(Reservation)
        .where(Reservation.reference == reference, Reservation.status == ReservationStatus.HELD)
        .values(expires_at=expires_at)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def held_of(session: AsyncSession, *, reference: str) -> list[Held]:
    rows = await session.execute(
        select(Reservation.store_id, Reservation.variant_id, Reservation.qty).where(
            Reservation.reference == reference, Reservation.status == ReservationStatus.HELD
        )
    )
    return sorted(Held(r.store_id, r.variant_id, r.qty) for r in rows)


async def expired_levels(
    session: AsyncSession, *, now: datetime | None = None, limit: int = 200
) -> list[tuple[int, int]]:
    """(store, variant) levels with at least one expired live hold, oldest first."""
    now = now or utcnow()
    rows = await session.execute(
        select(Reservation.store_id, Reservation.variant_id)
        .where(Reservation.status == ReservationStatus.HELD, Reservation.expires_at <= now)
        .group_by(Reservation.store_id, Reservation.variant_id)
        .order_by(func.min(Reservation.expires_at))
        .limit(limit)
    )
    return [(r.store_id, r.variant_id) for r in rows]


async def release_expired_at(
    session: AsyncSession, *, store_id: int, variant_id: int, now: datetime | None = None
) -> int:
    """The sweeper's step for one level: release its expired holds. Units freed."""
    now = now or utcnow()
    await _lock_levels(session, [(store_id, variant_id)])
    return await _end_expired(session, store_id=store_id, variant_id=variant_id, now=now)
