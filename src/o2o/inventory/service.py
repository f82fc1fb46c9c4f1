"""Stock per store and variant. Every change of on-hand writes one ledger movement.

No-negative stock is enforced by the database: decrements are conditional updates
(``WHERE on_hand - reserved >= :qty``) backed by CHECK constraints, never read-then-write.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog.models import Variant
from o2o.inventory.exceptions import (
    BelowReserved,
    InsufficientStock,
    InvalidQuantity,
    UnknownVariant,
)
from o2o.inventory.models import MovementKind, StockLevel, StockMovement
from o2o.inventory.schemas import MAX_QTY
from o2o.merchants.models import Store


@dataclass(frozen=True)
class LevelChange:
    store_id: int
    variant_id: int
    qty_delta: int
    on_hand: int
    available: int


def _check_qty(qty: int, *, field: str = "qty", allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    if not low <= qty <= MAX_QTY:
        raise InvalidQuantity(f"{field} must be between {low} and {MAX_QTY}.", field=field)


async def variant_of_merchant(
    session: AsyncSession, *, variant_id: int, merchant_id: int
) -> Variant:
    """The merchant's variant; another merchant's or a missing one is "not found" alike."""
    found = await session.scalar(
        select(Variant).where(Variant.id == variant_id, Variant.merchant_id == merchant_id)
    )
    if found is None:
        raise UnknownVariant(
            f"The store's merchant has no variant {variant_id}.", field="variant_id"
        )
    return found


async def ensure_levels(session: AsyncSession, *, store: Store, variant_ids: list[int]) -> None:
    """Create missing (store, variant) rows at zero; safe under concurrency."""
    if not variant_ids:
        return
    rows = [
        {
            "store_id": store.id,
            "variant_id": variant_id,
            "region_id": store.region_id,
            "cell": store.cell,
            "lat": store.lat,
            "lng": store.lng,
            "store_active": store.is_active,
            "on_hand": 0,
            "reserved": 0,
        }
        for variant_id in variant_ids
    ]
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(StockLevel).on_conflict_do_nothing(index_elements=["store_id", "variant_id"]),
        rows,
    )


async def _record(
    session: AsyncSession,
    *,
    store: Store,
    variant_id: int,
    kind: MovementKind,
    qty_delta: int,
    on_hand_after: int,
    reference: str,
    note: str,
    actor_user_id: int | None,
) -> None:
    session.add(
        StockMovement(
            store_id=store.id,
            variant_id=variant_id,
            region_id=store.region_id,
            kind=kind,
            qty_delta=qty_delta,
            on_hand_after=on_hand_after,
            reference=reference,
            note=note,
            actor_user_id=actor_user_id,
        )
    )


async def set_on_hand(
    session: AsyncSession,
    *,
    store: Store,
    variant_id: int,
    on_hand: int,
    kind: MovementKind = MovementKind.ADJUSTMENT,
    reference: str = "",
    note: str = "",
    actor_user_id: int | None = None,
) -> LevelChange:
    """Set a counted quantity; the ledger records the difference. Refused below reservations."""
    _check_qty(on_hand, field="on_hand", allow_zero=True)
    await variant_of_merchant(session, variant_id=variant_id, merchant_id=store.merchant_id)
    await ensure_levels(session, store=store, variant_ids=[variant_id])
    # Lock the row so the delta we record is against the value we replace.
    level = (
        await session.scalars(
            select(StockLevel)
            .where(StockLevel.store_id == store.id, StockLevel.variant_id == variant_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    if on_hand < level.reserved:
        raise BelowReserved(
            f"{level.reserved} units are reserved for orders; on hand cannot go below that.",
            field="on_hand",
        )
    delta = on_hand - level.on_hand
    level.on_hand = on_hand
    await session.flush()
    await session.refresh(level, ["available"])
    if delta:
        await _record(
            session,
            store=store,
            variant_id=variant_id,
            kind=kind,
            qty_delta=delta,
            on_hand_after=on_hand,
            reference=reference,
            note=note,
            actor_user_id=actor_user_id,
        )
    return LevelChange(store.id, variant_id, delta, level.on_hand, level.available)


async def add_stock(
    session: AsyncSession,
    *,
    store: Store,
    variant_id: int,
    qty: int,
    kind: MovementKind = MovementKind.RESTOCK,
    reference: str = "",
    note: str = "",
    actor_user_id: int | None = None,
) -> LevelChange:
    """Receive units (restock, return, transfer in)."""
    _check_qty(qty)
    await variant_of_merchant(session, variant_id=variant_id, merchant_id=store.merchant_id)
    await ensure_levels(session, store=store, variant_ids=[variant_id])
    row = (
        await session.execute(
            update(StockLevel)
            .where(StockLevel.store_id == store.id, StockLevel.variant_id == variant_id)
            .values(on_hand=StockLevel.on_hand + qty)
            .returning(StockLevel.on_hand, StockLevel.available)
        )
    ).one()
    await _record(
        session,
        store=store,
        variant_id=variant_id,
        kind=kind,
        qty_delta=qty,
        on_hand_after=row.on_hand,
        reference=reference,
        note=note,
        actor_user_id=actor_user_id,
    )
    return LevelChange(store.id, variant_id, qty, row.on_hand, row.available)


async def remove_stock(
    session: AsyncSession,
    *,
    store: Store,
    variant_id: int,
    qty: int,
    kind: MovementKind = MovementKind.SALE,
    reference: str = "",
    note: str = "",
    actor_user_id: int | None = None,
) -> LevelChange:
    """Take units out of what is available (not reserved); refused if there are not enough."""
    _check_qty(qty)
    row = (
        await session.execute(
            update(StockLevel)
            .where(
                StockLevel.store_id == store.id,
                StockLevel.variant_id == variant_id,
                StockLevel.on_hand - StockLevel.reserved >= qty,
            )
            .values(on_hand=StockLevel.on_hand - qty)
            .returning(StockLevel.on_hand, StockLevel.available)
        )
    ).one_or_none()
    if row is None:
        raise InsufficientStock(
            f"Store {store.id} does not have {qty} available of variant {variant_id}.",
            field="qty",
            store_id=store.id,
            variant_id=variant_id,
        )
    await _record(
        session,
        store=store,
        variant_id=variant_id,
        kind=kind,
        qty_delta=-qty,
        on_hand_after=row.on_hand,
        reference=reference,
        note=note,
        actor_user_id=actor_user_id,
    )
    return LevelChange(store.id, variant_id, -qty, row.on_hand, row.available)


async def get_level(session: AsyncSession, *, store_id: int, variant_id: int) -> StockLevel | None:
    return await session.scalar(
        select(StockLevel).where(
            StockLevel.store_id == store_id, StockLevel.variant_id == variant_id
        )
    )


async def lock_levels(
    session: AsyncSession, *, store_id: int, variant_ids: list[int]
) -> dict[int, StockLevel]:
    """Lock the store's existing rows of these variants, in variant order (no deadlocks)."""
    if not variant_ids:
        return {}
    levels = await session.scalars(
        select(StockLevel)
        .where(StockLevel.store_id == store_id, StockLevel.variant_id.in_(set(variant_ids)))
        .order_by(StockLevel.variant_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {level.variant_id: level for level in levels}


async def copy_store(session: AsyncSession, *, store: Store) -> None:
    """Copy a store's position and active flag onto its stock rows (they carry both for geo
    search); call after either changes."""
    await session.execute(
        update(StockLevel)
        .where(StockLevel.store_id == store.id)
        .values(
            cell=store.cell,
            lat=store.lat,
            lng=store.lng,
            region_id=store.region_id,
            store_active=store.is_active,
        )
    )


async def initial_stock(
    session: AsyncSession,
    *,
    store: Store,
    quantities: dict[int, int],
    reference: str = "initial",
    actor_user_id: int | None = None,
) -> int:
    """Open stock rows for variants the store has never stocked, in bulk, with their ledger.

    For loading a new store (or the demo). Variants must belong to the store's merchant and
    have no stock row there yet; returns the number of rows created.
    """
    if not quantities:
        return 0
    for qty in quantities.values():
        _check_qty(qty, allow_zero=True)
    ids = list(quantities)
    owned = set(
        await session.scalars(
            select(Variant.id).where(Variant.id.in_(ids), Variant.merchant_id == store.merchant_id)
        )
    )
    if missing := sorted(set(ids) - owned):
        raise UnknownVariant(
            f"The store's merchant has no variant {missing[0]}.", field="variant_id"
        )
    existing = await session.scalar(
        select(StockLevel.variant_id).where(
            StockLevel.store_id == store.id, StockLevel.variant_id.in_(ids)
        )
    )
    if existing is not None:
        raise InvalidQuantity(
            f"Variant {existing} is already stocked at store {store.id}; adjust it instead.",
            field="variant_id",
        )
    common = {"store_id": store.id, "region_id": store.region_id}
    await session.execute(
        insert(StockLevel),
        [
            {
                **common,
                "variant_id": vid,
                "cell": store.cell,
                "lat": store.lat,
                "lng": store.lng,
                "store_active": store.is_active,
                "on_hand": qty,
                "reserved": 0,
            }
            for vid, qty in quantities.items()
        ],
    )
    movements = [
        {
            **common,
            "variant_id": vid,
            "kind": MovementKind.RESTOCK,
            "qty_delta": qty,
            "on_hand_after": qty,
            "reference": reference,
            "note": "",
            "actor_user_id": actor_user_id,
        }
        for vid, qty in quantities.items()
        if qty
    ]
    if movements:
        await session.execute(insert(StockMovement), movements)
    return len(quantities)
