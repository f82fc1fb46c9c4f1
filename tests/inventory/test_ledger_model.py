"""Model-based property test: any sequence of stock operations keeps the database equal to a
simple model, never negative, and the ledger reconciled with the levels."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.errors import DomainError
from o2o.inventory import queries as inventory_queries
from o2o.inventory import service as inventory_service
from o2o.inventory.pos import record_pos_sale
from o2o.inventory.schemas import PosSaleCreate, PosSaleLine
from tests.inventory.scene import level_of, make_shop, reserve

OPS = st.lists(
    st.tuples(
        st.sampled_from(["set", "add", "remove", "pos", "reserve"]),
        st.integers(0, 2),  # which variant
        st.integers(-2, 12),  # quantity (negative and zero are bad input for most)
    ),
    max_size=25,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS)
async def test_operations_match_the_model_and_the_ledger_reconciles(
    session: AsyncSession, ops: list[tuple[str, int, int]]
) -> None:
    async with session.begin_nested() as savepoint:
        shop = await make_shop(session, sizes=("S", "M", "L"))
        store, variants = shop.store, shop.variants
        on_hand = {v.id: 0 for v in variants}
        reserved = {v.id: 0 for v in variants}
        for n, (op, index, qty) in enumerate(ops):
            vid = variants[index].id
            if op == "reserve":  # the orders domain will own reservations; set them directly
                if 0 <= qty <= on_hand[vid]:
                    await reserve(session, store=store, variant_id=vid, qty=qty)
                    reserved[vid] = qty
                continue
            expected_ok, after = _model(op, qty, on_hand[vid], reserved[vid])
            try:
                async with session.begin_nested():
                    if op == "set":
                        await inventory_service.set_on_hand(
                            session, store=store, variant_id=vid, on_hand=qty
                        )
                    elif op == "add":
                        await inventory_service.add_stock(
                            session, store=store, variant_id=vid, qty=qty
                        )
                    elif op == "remove":
                        await inventory_service.remove_stock(
                            session, store=store, variant_id=vid, qty=qty
                        )
                    else:
                        await record_pos_sale(
                            session,
                            store=store,
                            data=PosSaleCreate(
                                sale_id=f"sale-{n}",
                                occurred_at=datetime(2026, 11, 23, tzinfo=UTC),
                                lines=[PosSaleLine(variant_id=vid, qty=qty)],
                            ),
                        )
                ok = True
            except (DomainError, ValueError):
                ok = False
            assert ok is expected_ok, (op, qty, on_hand[vid], reserved[vid])
            if ok:
                on_hand[vid] = after
            assert await level_of(session, store, vid) == (on_hand[vid], reserved[vid])
        assert await inventory_queries.ledger_discrepancies(session) == []
        await savepoint.rollback()


def _model(op: str, qty: int, on_hand: int, reserved: int) -> tuple[bool, int]:
    """What the rules say: (accepted, on hand afterwards)."""
    available = on_hand - reserved
    if op == "set":
        return (qty >= reserved and qty >= 0), qty
    if op == "add":
        return qty >= 1, on_hand + qty
    if op == "remove":
        return (1 <= qty <= available), on_hand - qty
    # A till sale: the units left the shop; stock takes what is available, never reservations.
    return qty >= 1, on_hand - min(qty, available)
