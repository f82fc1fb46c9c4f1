"""The steps a return or exchange is made of (``o2o.orders.returns`` runs them in order):
record it, take the units back, refund, move the stock, announce it."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.outbox import emit
from o2o.inventory import service as inventory_service
from o2o.inventory.models import MovementKind
from o2o.merchants.models import Store
from o2o.orders import service as orders_service
from o2o.orders.exceptions import ReturnExceedsQuantity, ReturnNotAllowed
from o2o.orders.models import Order, OrderLine
from o2o.orders.returns_models import OrderReturn, OrderReturnLine, ReturnKind
from o2o.payments.service import Providers

ORDER_RETURNED = "order.returned"


def new_record(
    order: Order,
    store: Store,
    kind: ReturnKind,
    reason: str,
    restock: bool,
    actor_user_id: int | None,
) -> OrderReturn:
    return OrderReturn(
        order_id=order.id,
        merchant_id=order.merchant_id,
        store_id=store.id,
        kind=kind,
        reason=reason.strip()[:300],
        restocked=restock,
        refund_amount=0,
        actor_user_id=actor_user_id,
    )


async def take_back(
    session: AsyncSession, order: Order, line: OrderLine, qty: int, record: OrderReturn
) -> OrderReturnLine:
    """Raise the line's returned quantity, if that many are still out; record the units."""
    raised = (
        await session.execute(
            update(OrderLine)
            .where(
                OrderLine.id == line.id,
                OrderLine.order_id == order.id,
                OrderLine.returned_qty + qty <= OrderLine.qty,
            )
            .values(returned_qty=OrderLine.returned_qty + qty)
            .returning(OrderLine.id)
        )
    ).one_or_none()
    if raised is None:
        raise ReturnExceedsQuantity(
            f"Line {line.id} was taken back meanwhile; reload the order.",
            field="lines",
            line_id=line.id,
        )
    row = OrderReturnLine(
        return_id=record.id,
        order_line_id=line.id,
        variant_id=line.variant_id,
        unit_price=line.unit_price,
        qty=qty,
    )
    session.add(row)
    return row


async def refund(
    session: AsyncSession, order: Order, amount: int, reason: str, providers: Providers
) -> int:
    """Raise the order's refunded amount (never past its total) and refund through the
    provider of its payment (never past what was paid); the refund's id."""
    done = await orders_service.refund(
        session, order, providers=providers, reason=f"returned: {reason.strip()}", amount=amount
    )
    if done is None:  # _check_returnable allows only orders paid online, with money left
        raise ReturnNotAllowed("This order has nothing to refund online.", field="order_id")
    return done.id


async def move_stock(
    session: AsyncSession,
    store: Store,
    order: Order,
    rows: list[OrderReturnLine],
    record: OrderReturn,
    actor_user_id: int | None,
) -> None:
    """Put the units that came back on the receiving store's shelf (if fit to sell) and take
    out the replacements (refused if not available). All in variant order, returns first, so
    two desks working on the same rows lock them in the same order (no deadlock)."""
    moves: list[tuple[int, int]] = []
    for row in rows:
        if record.restocked:
            moves.append((row.variant_id, row.qty))
        if row.replacement_variant_id is not None:
            moves.append((row.replacement_variant_id, -row.qty))
    note = f"{record.kind.value} {record.id}"
    for variant_id, delta in sorted(moves, key=lambda move: (move[0], -move[1])):
        if delta > 0:
            await inventory_service.add_stock(
                session,
                store=store,
                variant_id=variant_id,
                qty=delta,
                kind=MovementKind.RETURN,
                reference=order.reference,
                note=note,
                actor_user_id=actor_user_id,
            )
        else:
            await inventory_service.remove_stock(
                session,
                store=store,
                variant_id=variant_id,
                qty=-delta,
                kind=MovementKind.SALE,
                reference=order.reference,
                note=note,
                actor_user_id=actor_user_id,
            )


def announce(
    session: AsyncSession, order: Order, record: OrderReturn, rows: list[OrderReturnLine]
) -> None:
    emit(
        session,
        ORDER_RETURNED,
        {
            "order_id": order.id,
            "shopper_id": order.shopper_id,
            "store_id": order.store_id,
            "receiving_store_id": record.store_id,
            "return_id": record.id,
            "kind": record.kind.value,
            "refund_amount": record.refund_amount,
            "lines": [{"line_id": r.order_line_id, "qty": r.qty} for r in rows],
        },
    )
