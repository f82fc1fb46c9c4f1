"""Read models of the returns desk: find an order by what the shopper brings, and its returns."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.orders.models import Order
from o2o.orders.returns_models import OrderReturn, OrderReturnLine
from o2o.redemption import codes
from o2o.redemption.models import CodeKind, RedemptionCode

MAX_ORDER_ID = 2**63 - 1


async def find_for_desk(session: AsyncSession, *, merchant_id: int, q: str) -> list[Order]:
    """Orders of the merchant (any of its stores) matching what was typed or scanned: an order
    id, or a pickup code (dashes, case and look-alike letters do not matter). A nine-digit
    text can be both, so both are tried; the merchant's own orders only."""
    text = q.strip().removeprefix("#")
    ids: set[int] = set()
    if text.isdigit() and 0 < int(text) <= MAX_ORDER_ID:
        ids.add(int(text))
    code = codes.normalize(text)
    if code is not None:
        subject = await session.scalar(
            select(RedemptionCode.subject).where(
                RedemptionCode.code == code,
                RedemptionCode.kind == CodeKind.PICKUP,
                RedemptionCode.merchant_id == merchant_id,
            )
        )
        if subject is not None and subject.startswith("order:"):
            ids.add(int(subject.removeprefix("order:")))
    if not ids:
        return []
    return list(
        await session.scalars(
            select(Order)
            .where(Order.id.in_(sorted(ids)), Order.merchant_id == merchant_id)
            .order_by(Order.id.desc())
        )
    )


async def returns_of(
    session: AsyncSession, *, order_id: int
) -> list[tuple[OrderReturn, list[OrderReturnLine]]]:
    """Every return and exchange of the order, oldest first, with their lines."""
    records = list(
        await session.scalars(
            select(OrderReturn).where(OrderReturn.order_id == order_id).order_by(OrderReturn.id)
        )
    )
    if not records:
        return []
    lines = await session.scalars(
        select(OrderReturnLine)
        .where(OrderReturnLine.return_id.in_([r.id for r in records]))
        .order_by(OrderReturnLine.id)
    )
    by_record: dict[int, list[OrderReturnLine]] = {r.id: [] for r in records}
    for line in lines:
        by_record[line.return_id].append(line)
    return [(r, by_record[r.id]) for r in records]
