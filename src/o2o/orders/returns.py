"""Returns and exchanges at a store's returns desk, for orders bought online.

Staff look the order up (by id or pickup code), pick lines and quantities, and either
*return* them (the money goes back through the payment provider, see ``refund_rule``) or
*exchange* them for another variant of the same product at the same price, taken from the
receiving store's available stock (no money moves). The receiving store may be any store of
the order's merchant; the units go back on its shelf (``MovementKind.RETURN``, reference
``order:N``) unless they are not fit to sell (``restock=False``).

Rules:
- only orders handed over (collected or delivered) and paid online, within
  ``OrderPolicy.return_window`` of the hand-over (30 days unless configured);
- a unit comes back at most once: ``returned_qty`` rises by a conditional update
  (``returned_qty + :q <= qty``) and the database's CHECK backs it;
- concurrent returns of one order are serialised by a conditional update of the order row
  taken first, so each refund is computed from the returns committed before it; the refund
  itself raises ``orders.refunded`` conditionally (``<= total``) and the payment's running
  refund conditionally (``<= amount``).
- an exchange raises ``returned_qty`` of the line and adds a line for the replacement at the
  price paid, so the value the shopper holds is unchanged (no refund) and the replacement can
  be returned or exchanged in turn.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog.models import Variant
from o2o.core.clock import utcnow
from o2o.inventory import service as inventory_service
from o2o.merchants.models import Store
from o2o.orders import refund_rule
from o2o.orders import returns_steps as steps
from o2o.orders import service as orders_service
from o2o.orders.exceptions import (
    ExchangePriceDiffers,
    ExchangeTargetInvalid,
    InvalidReturnLines,
    OrderChanged,
    ReturnExceedsQuantity,
    ReturnNotAllowed,
    ReturnReasonRequired,
    ReturnWindowClosed,
    StoreOfAnotherMerchant,
)
from o2o.orders.models import Order, OrderLine, OrderStatus
from o2o.orders.policy import OrderPolicy
from o2o.orders.returns_models import OrderReturn, OrderReturnLine, ReturnKind
from o2o.payments import service as payments_service
from o2o.payments.models import PaymentStatus
from o2o.payments.service import Providers

HANDED_OVER = frozenset({OrderStatus.COLLECTED, OrderStatus.DELIVERED})
MAX_RETURN_LINES = 50


@dataclass(frozen=True)
class ReturnDone:
    """What one visit to the desk did: the record, its lines, and the order afterwards."""

    record: OrderReturn
    lines: list[OrderReturnLine]
    order: Order


def returnable_until(order: Order, policy: OrderPolicy) -> datetime | None:
    """When the return window of a handed-over order ends; None if it was never handed over."""
    if order.status not in HANDED_OVER or order.closed_at is None:
        return None
    return order.closed_at + policy.return_window


async def is_returnable(
    session: AsyncSession, order: Order, *, policy: OrderPolicy, now: datetime | None = None
) -> bool:
    """Whether the desk may take items of this order back now (handed over, paid online,
    within the window); the lines may all be back already."""
    try:
        await _check_returnable(session, order, policy, now or utcnow())
    except (ReturnNotAllowed, ReturnWindowClosed):
        return False
    return True


async def return_items(
    session: AsyncSession,
    *,
    receiving_store: Store,
    order_id: int,
    lines: Sequence[tuple[int, int]],
    reason: str,
    actor_user_id: int | None,
    providers: Providers,
    restock: bool = True,
    policy: OrderPolicy | None = None,
    now: datetime | None = None,
) -> ReturnDone:
    """Take back ``(order_line_id, qty)`` units at ``receiving_store`` and refund their share
    of what was paid (``refund_rule``) to the original payment."""
    now = now or utcnow()
    order, by_id = await _open(
        session, receiving_store, order_id, lines, reason, policy or OrderPolicy(), now
    )
    returned_before, _ = _returned_value(order, by_id.values())
    record = steps.new_record(
        order, receiving_store, ReturnKind.RETURN, reason, restock, actor_user_id
    )
    session.add(record)
    await session.flush()
    rows = [
        await steps.take_back(session, order, by_id[line_id], qty, record) for line_id, qty in lines
    ]
    fresh = await _lines(session, order.id)
    returned_after, all_back = _returned_value(order, fresh.values())
    amount = refund_rule.refund_for(
        subtotal=order.subtotal,
        discount=order.discount,
        fee=order.fee,
        returned_before=returned_before,
        returned_after=returned_after,
        all_back_after=all_back,
    )
    await steps.move_stock(session, receiving_store, order, rows, record, actor_user_id)
    if amount > 0:
        # Last: once the provider has been asked, nothing here may fail and roll back.
        record.refund_amount = amount
        record.refund_id = await steps.refund(session, order, amount, reason, providers)
    await session.flush()
    await session.refresh(order)
    steps.announce(session, order, record, rows)
    return ReturnDone(record, rows, order)


async def exchange_items(
    session: AsyncSession,
    *,
    receiving_store: Store,
    order_id: int,
    lines: Sequence[tuple[int, int]],
    exchange_to: Sequence[tuple[int, int]],
    reason: str,
    actor_user_id: int | None,
    restock: bool = True,
    policy: OrderPolicy | None = None,
    now: datetime | None = None,
) -> ReturnDone:
    """Take back ``(order_line_id, qty)`` units and hand out as many of another variant of the
    same product, at the same price, from ``receiving_store``'s available stock
    (``exchange_to``: one ``(order_line_id, variant_id)`` per line). No money moves."""
    now = now or utcnow()
    targets = _targets(lines, exchange_to)
    order, by_id = await _open(
        session, receiving_store, order_id, lines, reason, policy or OrderPolicy(), now
    )
    replacements: dict[int, Variant] = {}
    for line_id, variant_id in targets.items():
        line = by_id[line_id]
        variant = await inventory_service.variant_of_merchant(
            session, variant_id=variant_id, merchant_id=order.merchant_id
        )
        if variant.product_id != line.product_id or not variant.is_active:
            raise ExchangeTargetInvalid(
                f"Variant {variant_id} is not a variant on sale of the product of line {line_id}.",
                field="exchange_to",
                line_id=line_id,
            )
        if variant.price != line.unit_price:
            raise ExchangePriceDiffers(
                f"Line {line_id} was paid {line.unit_price} a unit; variant {variant_id} costs "
                f"{variant.price}. Return it and buy the other instead.",
                field="exchange_to",
                line_id=line_id,
                paid=line.unit_price,
                price=variant.price,
            )
        replacements[line_id] = variant
    record = steps.new_record(
        order, receiving_store, ReturnKind.EXCHANGE, reason, restock, actor_user_id
    )
    session.add(record)
    await session.flush()
    rows: list[OrderReturnLine] = []
    for line_id, qty in lines:
        row = await steps.take_back(session, order, by_id[line_id], qty, record)
        variant = replacements[line_id]
        original = by_id[line_id]
        replacement = OrderLine(
            order_id=order.id,
            variant_id=variant.id,
            product_id=original.product_id,
            title=original.title,
            title_zh=original.title_zh,
            sku=variant.sku,
            attributes=dict(variant.attributes),
            unit_price=original.unit_price,
            qty=qty,
            line_total=original.unit_price * qty,
            returned_qty=0,
        )
        session.add(replacement)
        await session.flush()
        row.replacement_variant_id = variant.id
        row.replacement_line_id = replacement.id
        rows.append(row)
    await steps.move_stock(session, receiving_store, order, rows, record, actor_user_id)
    await session.flush()
    await session.refresh(order)
    steps.announce(session, order, record, rows)
    return ReturnDone(record, rows, order)


# -- steps ------------------------------------------------------------------------------------
def _check_request(lines: Sequence[tuple[int, int]], reason: str) -> None:
    if not reason.strip():
        raise ReturnReasonRequired("Say why the items come back (reason).", field="reason")
    if not lines:
        raise InvalidReturnLines("Pick at least one line to take back.", field="lines")
    if len(lines) > MAX_RETURN_LINES:
        raise InvalidReturnLines(f"At most {MAX_RETURN_LINES} lines at once.", field="lines")
    ids = [line_id for line_id, _ in lines]
    if len(set(ids)) != len(ids):
        raise InvalidReturnLines("Name each line once, with its whole quantity.", field="lines")
    if any(qty < 1 for _, qty in lines):
        raise InvalidReturnLines("Each quantity must be at least 1.", field="lines")


def _targets(
    lines: Sequence[tuple[int, int]], exchange_to: Sequence[tuple[int, int]]
) -> dict[int, int]:
    targets = dict(exchange_to)
    if len(targets) != len(exchange_to) or set(targets) != {line_id for line_id, _ in lines}:
        raise ExchangeTargetInvalid(
            "Name one replacement variant for each line exchanged, and only for those.",
            field="exchange_to",
        )
    return targets


async def _open(
    session: AsyncSession,
    store: Store,
    order_id: int,
    lines: Sequence[tuple[int, int]],
    reason: str,
    policy: OrderPolicy,
    now: datetime,
) -> tuple[Order, dict[int, OrderLine]]:
    """Check the request and the order, then lock the order for this return (a conditional
    update that also re-checks the rules) and read its lines as committed before us."""
    _check_request(lines, reason)
    order = await orders_service.get_order(session, order_id=order_id)
    if order.merchant_id != store.merchant_id:
        raise StoreOfAnotherMerchant(
            f"Store {store.id} belongs to another merchant than order {order_id}.",
            field="store_id",
        )
    await _check_returnable(session, order, policy, now)
    locked = (
        await session.execute(
            update(Order)
            .where(
                Order.id == order.id,
                Order.status.in_(list(HANDED_OVER)),
                Order.closed_at > now - policy.return_window,
            )
            .values(updated_at=now)
            .returning(Order.id)
        )
    ).one_or_none()
    if locked is None:
        raise OrderChanged(f"Order {order.id} changed meanwhile; reload it and try again.")
    await session.refresh(order)
    by_id = await _lines(session, order.id)
    for line_id, qty in lines:
        line = by_id.get(line_id)
        if line is None:
            raise InvalidReturnLines(
                f"Order {order.id} has no line {line_id}.", field="lines", line_id=line_id
            )
        left = line.qty - line.returned_qty
        if qty > left:
            raise ReturnExceedsQuantity(
                f"Line {line_id} has {left} unit(s) left to take back, not {qty}.",
                field="lines",
                line_id=line_id,
                returnable=left,
            )
    return order, by_id


async def _check_returnable(
    session: AsyncSession, order: Order, policy: OrderPolicy, now: datetime
) -> None:
    if order.status not in HANDED_OVER:
        raise ReturnNotAllowed(
            f"The order is {order.status.value}; only goods handed over (collected or "
            "delivered) can come back. Cancel or reject it instead.",
            field="order_id",
            order_status=order.status.value,
        )
    payment = (
        await payments_service.get_payment(session, payment_id=order.payment_id)
        if order.payment_id is not None
        else None
    )
    if payment is None or payment.status != PaymentStatus.SUCCEEDED:
        raise ReturnNotAllowed(
            "This order was paid at the till, not online: take it back through the till.",
            field="order_id",
        )
    until = returnable_until(order, policy)
    if until is None or until <= now:
        raise ReturnWindowClosed(
            f"Goods can be returned within {policy.return_window.days} days of the hand-over.",
            field="order_id",
            returnable_until=until.isoformat() if until else None,
        )


async def _lines(session: AsyncSession, order_id: int) -> dict[int, OrderLine]:
    rows = await session.scalars(
        select(OrderLine)
        .where(OrderLine.order_id == order_id)
        .order_by(OrderLine.id)
        .execution_options(populate_existing=True)
    )
    return {line.id: line for line in rows}


def _returned_value(order: Order, lines: Iterable[OrderLine]) -> tuple[int, bool]:
    """(value returned so far at the prices paid, whether every unit is back). Exchanges add
    a line worth what came back, so only returns change the value the shopper holds."""
    lines = list(lines)
    held = sum(line.unit_price * (line.qty - line.returned_qty) for line in lines)
    all_back = all(line.returned_qty == line.qty for line in lines)
    return order.subtotal - held, all_back
