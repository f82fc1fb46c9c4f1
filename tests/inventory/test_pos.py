"""POS sync: offline sales lower stock at once, never below zero, once per sale id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.inventory import pos
from o2o.inventory import queries as inventory_queries
from o2o.inventory.exceptions import SaleIdConflict, UnknownSaleItems
from o2o.inventory.models import PosSale, StockMovement
from o2o.inventory.schemas import PosSaleCreate
from tests.factories import stock
from tests.inventory.scene import level_of, make_shop, reserve

AT = datetime(2026, 5, 1, 10, 30, tzinfo=UTC)


def sale(sale_id: str, *lines: dict[str, Any]) -> PosSaleCreate:
    return PosSaleCreate(sale_id=sale_id, occurred_at=AT, lines=list(lines))


async def test_a_sale_takes_what_is_available_and_reports_the_shortfall(
    session: AsyncSession,
) -> None:
    shop = await make_shop(session, sizes=("S", "M", "L"))
    a, b, c = shop.variants
    await stock(session, store=shop.store, variant_id=a.id, qty=3)
    await reserve(session, store=shop.store, variant_id=a.id, qty=1)
    await stock(session, store=shop.store, variant_id=b.id, qty=10)

    result, created = await pos.record_pos_sale(
        session,
        store=shop.store,
        data=sale(
            "T1-0001",
            {"variant_id": a.id, "qty": 5},
            {"barcode": b.barcode, "qty": 4},
            {"sku": b.sku, "qty": 7},
            {"sku": c.sku, "qty": 1},
        ),
    )

    assert created
    got = [(x.variant_id, x.requested, x.applied, x.shortfall, x.available) for x in result.lines]
    assert got == [(a.id, 5, 2, 3, 0), (b.id, 4, 4, 0, 6), (b.id, 7, 6, 1, 0), (c.id, 1, 0, 1, 0)]
    assert result.shortfall == 5
    assert await level_of(session, shop.store, a.id) == (1, 1)  # the reservation is kept
    assert await level_of(session, shop.store, b.id) == (0, 0)
    moves = await session.execute(
        select(StockMovement.variant_id, StockMovement.kind, StockMovement.qty_delta)
        .where(StockMovement.reference == "T1-0001")
        .order_by(StockMovement.id)
    )
    assert [(v, str(k), d) for v, k, d in moves] == [
        (a.id, "pos_sale", -2),
        (b.id, "pos_sale", -4),
        (b.id, "pos_sale", -6),
    ]
    assert await inventory_queries.ledger_discrepancies(session) == []


async def test_the_same_sale_id_is_applied_once_and_answers_with_the_first_result(
    session: AsyncSession,
) -> None:
    shop = await make_shop(session, sizes=("S",))
    (a,) = shop.variants
    await stock(session, store=shop.store, variant_id=a.id, qty=5)
    first, created = await pos.record_pos_sale(
        session, store=shop.store, data=sale("T1-0002", {"sku": a.sku, "qty": 2})
    )
    again, created_again = await pos.record_pos_sale(
        session, store=shop.store, data=sale("T1-0002", {"sku": a.sku, "qty": 2})
    )
    assert created
    assert not created_again
    assert again == first
    assert await level_of(session, shop.store, a.id) == (3, 0)


async def test_a_sale_id_resent_with_other_lines_is_refused_and_changes_nothing(
    session: AsyncSession,
) -> None:
    shop = await make_shop(session, sizes=("S",))
    (a,) = shop.variants
    await stock(session, store=shop.store, variant_id=a.id, qty=5)
    await pos.record_pos_sale(
        session, store=shop.store, data=sale("T1-0004", {"sku": a.sku, "qty": 2})
    )
    with pytest.raises(SaleIdConflict) as caught:
        await pos.record_pos_sale(
            session, store=shop.store, data=sale("T1-0004", {"sku": a.sku, "qty": 3})
        )
    assert caught.value.code == "sale_id_conflict"
    assert caught.value.status == 409
    assert await level_of(session, shop.store, a.id) == (3, 0)


async def test_unknown_items_refuse_the_whole_sale(session: AsyncSession) -> None:
    shop = await make_shop(session, sizes=("S",))
    (a,) = shop.variants
    await stock(session, store=shop.store, variant_id=a.id, qty=5)
    with pytest.raises(UnknownSaleItems) as caught:
        await pos.record_pos_sale(
            session,
            store=shop.store,
            data=sale(
                "T1-0003",
                {"sku": a.sku, "qty": 1},
                {"barcode": "000-nope", "qty": 1},
                {"variant_id": 999_999_999, "qty": 1},
            ),
        )
    assert [(e["line"], e["field"], e["code"]) for e in caught.value.extra["errors"]] == [
        (2, "lines.1.barcode", "unknown_item"),
        (3, "lines.2.variant_id", "unknown_item"),
    ]
    assert await level_of(session, shop.store, a.id) == (5, 0)
    assert await session.scalar(select(func.count(PosSale.id))) == 0


@pytest.mark.parametrize(
    "line",
    [
        {"qty": 1},
        {"sku": "A", "barcode": "B", "qty": 1},
        {"sku": "A", "qty": 0},
        {"sku": "A", "qty": -2},
        {"sku": "A", "qty": 1.5},
        {"sku": "A", "qty": 1, "price": 3},
    ],
)
def test_lines_need_one_identifier_and_a_positive_whole_quantity(line: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        sale("T1-0004", line)


def test_the_sale_time_must_carry_a_timezone() -> None:
    with pytest.raises(ValidationError):
        PosSaleCreate.model_validate(
            {
                "sale_id": "x",
                "occurred_at": "2026-05-01T10:00:00",
                "lines": [{"sku": "a", "qty": 1}],
            }
        )
