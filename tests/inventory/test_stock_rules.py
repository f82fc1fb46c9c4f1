"""Set, add and remove stock; the ledger always reconciles with the levels."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog import service as catalog_service
from o2o.inventory import queries as inventory_queries
from o2o.inventory import service as inventory_service
from o2o.inventory.exceptions import (
    BelowReserved,
    InsufficientStock,
    InvalidQuantity,
    UnknownVariant,
)
from o2o.inventory.models import MovementKind, StockLevel, StockMovement
from o2o.merchants.models import Store
from tests.factories import make_merchant, make_product, make_region, make_store


async def _shop(session: AsyncSession) -> tuple[Store, list[int]]:
    region = await make_region(session)
    merchant = await make_merchant(session)
    store = await make_store(session, merchant=merchant, region=region)
    product = await make_product(session, merchant=merchant)
    variant_ids = [v.id for v in await catalog_service.variants_of(session, product.id)]
    return store, variant_ids


async def _ledger(
    session: AsyncSession, store: Store, variant_id: int
) -> list[tuple[str, int, int]]:
    rows = await session.execute(
        select(StockMovement.kind, StockMovement.qty_delta, StockMovement.on_hand_after)
        .where(StockMovement.store_id == store.id, StockMovement.variant_id == variant_id)
        .order_by(StockMovement.id)
    )
    return [(str(k), d, a) for k, d, a in rows]


async def test_set_add_remove_and_the_ledger_records_each_difference(
    session: AsyncSession,
) -> None:
    store, (v, *_rest) = await _shop(session)

    first = await inventory_service.set_on_hand(session, store=store, variant_id=v, on_hand=10)
    assert (first.qty_delta, first.on_hand, first.available) == (10, 10, 10)
    same = await inventory_service.set_on_hand(session, store=store, variant_id=v, on_hand=10)
    assert same.qty_delta == 0
    added = await inventory_service.add_stock(session, store=store, variant_id=v, qty=5)
    assert (added.on_hand, added.available) == (15, 15)
    removed = await inventory_service.remove_stock(session, store=store, variant_id=v, qty=15)
    assert (removed.on_hand, removed.available) == (0, 0)
    lowered = await inventory_service.set_on_hand(session, store=store, variant_id=v, on_hand=0)
    assert lowered.qty_delta == 0

    assert await _ledger(session, store, v) == [
        ("adjustment", 10, 10),
        ("restock", 5, 15),
        ("sale", -15, 0),
    ]
    assert await inventory_queries.ledger_discrepancies(session) == []


async def test_remove_refuses_more_than_available_and_changes_nothing(
    session: AsyncSession,
) -> None:
    store, (v, *_rest) = await _shop(session)
    await inventory_service.set_on_hand(session, store=store, variant_id=v, on_hand=3)
    with pytest.raises(InsufficientStock):
        await inventory_service.remove_stock(session, store=store, variant_id=v, qty=4)
    level = await inventory_service.get_level(session, store_id=store.id, variant_id=v)
    assert level is not None
    await session.refresh(level)
    assert (level.on_hand, level.available) == (3, 3)
    assert len(await _ledger(session, store, v)) == 1


async def test_reserved_units_are_neither_sold_nor_counted_away(session: AsyncSession) -> None:
    store, (v, *_rest) = await _shop(session)
    await inventory_service.set_on_hand(session, store=store, variant_id=v, on_hand=5)
    await session.execute(
        update(StockLevel)
        .where(StockLevel.store_id == store.id, StockLevel.variant_id == v)
        .values(reserved=2)
    )
    with pytest.raises(InsufficientStock):
        await inventory_service.remove_stock(session, store=store, variant_id=v, qty=4)
    with pytest.raises(BelowReserved) as caught:
        await inventory_service.set_on_hand(session, store=store, variant_id=v, on_hand=1)
    assert caught.value.field == "on_hand"
    change = await inventory_service.remove_stock(session, store=store, variant_id=v, qty=3)
    assert (change.on_hand, change.available) == (2, 0)


@pytest.mark.parametrize(("qty", "field"), [(0, "qty"), (-1, "qty"), (1_000_001, "qty")])
async def test_quantities_out_of_range_are_refused(
    session: AsyncSession, qty: int, field: str
) -> None:
    store, (v, *_rest) = await _shop(session)
    with pytest.raises(InvalidQuantity) as caught:
        await inventory_service.add_stock(session, store=store, variant_id=v, qty=qty)
    assert caught.value.field == field
    with pytest.raises(InvalidQuantity):
        await inventory_service.remove_stock(session, store=store, variant_id=v, qty=qty)
    with pytest.raises(InvalidQuantity):
        await inventory_service.set_on_hand(session, store=store, variant_id=v, on_hand=-1)


async def test_another_merchants_variant_is_unknown_here(session: AsyncSession) -> None:
    store, _variants = await _shop(session)
    other = await make_merchant(session)
    foreign = await make_product(session, merchant=other, sizes=("M",))
    (foreign_variant,) = await catalog_service.variants_of(session, foreign.id)
    with pytest.raises(UnknownVariant):
        await inventory_service.set_on_hand(
            session, store=store, variant_id=foreign_variant.id, on_hand=1
        )
    with pytest.raises(UnknownVariant):
        await inventory_service.add_stock(
            session, store=store, variant_id=foreign_variant.id, qty=1
        )


async def test_ledger_reconciles_after_mixed_operations_and_the_check_finds_tampering(
    session: AsyncSession,
) -> None:
    store, variants = await _shop(session)
    a, b, c = variants
    await inventory_service.set_on_hand(session, store=store, variant_id=a, on_hand=7)
    await inventory_service.add_stock(session, store=store, variant_id=b, qty=4)
    await inventory_service.remove_stock(session, store=store, variant_id=a, qty=2)
    await inventory_service.add_stock(
        session, store=store, variant_id=a, qty=1, kind=MovementKind.RETURN
    )
    await inventory_service.set_on_hand(session, store=store, variant_id=b, on_hand=1)
    await inventory_service.set_on_hand(session, store=store, variant_id=c, on_hand=0)
    await session.flush()
    assert await inventory_queries.ledger_discrepancies(session) == []

    # A write that bypasses the service (no movement) is exactly what the check is for.
    await session.execute(
        update(StockLevel)
        .where(StockLevel.store_id == store.id, StockLevel.variant_id == a)
        .values(on_hand=9)
    )
    (found,) = await inventory_queries.ledger_discrepancies(session)
    assert (found.store_id, found.variant_id, found.on_hand) == (store.id, a, 9)
    assert (found.ledger_sum, found.last_on_hand_after) == (6, 6)
