"""The order use cases after checkout: pay, move through the store's work, collect, cancel,
expire. Every status change is a conditional update on the current status, so two actors
racing (a payment and the expiry sweeper, two clerks) cannot both win."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.outbox import emit
from o2o.inventory import reservations
from o2o.inventory import service as inventory_service
from o2o.inventory.exceptions import InsufficientStock
from o2o.inventory.models import MovementKind
from o2o.ledger import service as ledger_service
from o2o.ledger.service import OrderShare
from o2o.merchants import service as merchants_service
from o2o.orders import state
from o2o.orders.events import order_payload
from o2o.orders.exceptions import (
    InvalidTransition,
    OrderChanged,
    OrderNotFound,
)
from o2o.orders.models import Fulfilment, Order, OrderEvent, OrderLine, OrderStatus
from o2o.payments import service as payments_service
from o2o.payments.models import OPEN, PaymentStatus, Refund
from o2o.payments.service import Providers
from o2o.redemption import service as redemption_service

STATUS_CHANGED = "order.status_changed"
DELIVERY_REQUESTED = "delivery.requested"
S = OrderStatus


async def get_order(session: AsyncSession, *, order_id: int) -> Order:
    order = await session.get(Order, order_id, populate_existing=True)
    if order is None:
        raise OrderNotFound(f"There is no order {order_id}.")
    return order


async def lock_order(session: AsyncSession, order: Order) -> Order:
    """Take the order's row lock and re-read it. Every use case that changes an order does
    this first, so all of them lock in one order (order, then stock levels, then holds and
    codes) and cannot deadlock one another."""
    await session.execute(
        select(Order)
        .where(Order.id == order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return order


async def order_of_shopper(session: AsyncSession, *, order_id: int, shopper_id: int) -> Order:
    """The shopper's own order; someone else's is "not found" (ids are not secrets)."""
    order = await get_order(session, order_id=order_id)
    if order.shopper_id != shopper_id:
        raise OrderNotFound(f"There is no order {order_id}.")
    return order


async def order_at_store(session: AsyncSession, *, order_id: int, store_id: int) -> Order:
    order = await get_order(session, order_id=order_id)
    if order.store_id != store_id:
        raise OrderNotFound(f"Store {store_id} has no order {order_id}.")
    return order


async def lines_of(session: AsyncSession, *, order_id: int) -> list[OrderLine]:
    return list(
        await session.scalars(
            select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)
        )
    )


async def events_of(session: AsyncSession, *, order_id: int) -> list[OrderEvent]:
    return list(
        await session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        )
    )


async def checkout_of(session: AsyncSession, *, checkout_ref: str) -> list[Order]:
    return list(
        await session.scalars(
            select(Order).where(Order.checkout_ref == checkout_ref).order_by(Order.id)
        )
    )


async def move(
    session: AsyncSession,
    order: Order,
    to: OrderStatus,
    *,
    actor_user_id: int | None,
    note: str = "",
    now: datetime,
    **values: object,
) -> None:
    """Change the status if it is still what we read; record and announce the step."""
    current = order.status
    if to in state.FINAL:
        values.setdefault("closed_at", now)
    moved = (
        await session.execute(
            update(Order)
            .where(Order.id == order.id, Order.status == current)
            .values(status=to, updated_at=now, **values)
            .returning(Order.id)
        )
    ).one_or_none()
    if moved is None:
        raise OrderChanged(f"Order {order.id} changed meanwhile; reload it and try again.")
    await session.refresh(order)
    session.add(
        OrderEvent(
            order_id=order.id,
            from_status=current,
            status=to,
            actor_user_id=actor_user_id,
            note=note[:300],
            at=now,
        )
    )
    emit(session, STATUS_CHANGED, {**order_payload(order), "from": current.value, "note": note})


async def secure_stock(session: AsyncSession, order: Order, *, now: datetime) -> bool:
    """Turn the order's holds into a sale; take fresh units for holds that expired. False
    (and nothing taken) if some units are gone."""
    lines = await lines_of(session, order_id=order.id)
    try:
        async with session.begin_nested():
            converted = await reservations.convert(
                session, reference=order.reference, region_id=order.region_id, now=now
            )
            have = {held.variant_id: held.qty for held in converted}
            store = await merchants_service.get_store(session, store_id=order.store_id)
            for line in lines:
                missing = line.qty - have.get(line.variant_id, 0)
                if missing > 0:
                    await inventory_service.remove_stock(
                        session,
                        store=store,
                        variant_id=line.variant_id,
                        qty=missing,
                        reference=order.reference,
                    )
    except InsufficientStock:
        await reservations.release(session, reference=order.reference, now=now)
        return False
    return True


async def refund(
    session: AsyncSession,
    order: Order,
    *,
    providers: Providers,
    reason: str,
    amount: int | None = None,
) -> Refund | None:
    """Refund ``amount`` (default: all not yet refunded) of the order through its payment's
    provider; the order's refunded total rises by a conditional update (never past its total).
    The refund is decided and posted to the ledger here, and made at the provider by the
    worker after commit (``payments.refunds``). The refund (``pending``), or None when there
    is nothing to refund (not paid online, nothing left)."""
    if order.payment_id is None:
        return None
    payment = await payments_service.get_payment(session, payment_id=order.payment_id)
    if payment.status != PaymentStatus.SUCCEEDED:
        return None
    amount = order.total - order.refunded if amount is None else amount
    if amount <= 0:
        return None
    raised = (
        await session.execute(
            update(Order)
            .where(Order.id == order.id, Order.refunded + amount <= Order.total)
            .values(refunded=Order.refunded + amount)
            .returning(Order.id)
        )
    ).one_or_none()
    if raised is None:
        raise OrderChanged("The order was refunded meanwhile; reload it.")
    done = await payments_service.refund(
        session,
        payment_id=payment.id,
        amount=amount,
        reason=reason,
        reference=order.reference,
        number_prefix=providers.trade_no_prefix,
    )
    await ledger_service.record_refund(
        session,
        refund_id=done.id,
        order=ledger_share(order),
        provider=payment.provider,
        amount=amount,
        currency=payment.currency,
        occurred_at=done.created_at,
        memo=reason,
    )
    await session.refresh(order)
    return done


def ledger_share(order: Order) -> OrderShare:
    """The order as the ledger knows it."""
    return OrderShare(order.id, order.merchant_id, order.region_id, order.total)


async def restock(session: AsyncSession, order: Order, *, actor_user_id: int | None) -> None:
    """Put a paid order's units back on the shelf of its store (it was never handed over)."""
    store = await merchants_service.get_store(session, store_id=order.store_id)
    for line in await lines_of(session, order_id=order.id):
        qty = line.qty - line.returned_qty
        if qty > 0:
            await inventory_service.add_stock(
                session,
                store=store,
                variant_id=line.variant_id,
                qty=qty,
                kind=MovementKind.RETURN,
                reference=order.reference,
                note="order not handed over",
                actor_user_id=actor_user_id,
            )


async def unwind(
    session: AsyncSession,
    order: Order,
    *,
    was: OrderStatus,
    providers: Providers,
    actor_user_id: int | None,
    reason: str,
    now: datetime,
) -> None:
    """Undo an order that will not be handed over: holds back, money back, code void."""
    if was in state.PAID_OPEN and order.fulfilment != Fulfilment.RESERVE:
        await restock(session, order, actor_user_id=actor_user_id)
        await refund(session, order, providers=providers, reason=reason or "order cancelled")
    else:
        await reservations.release(session, reference=order.reference, now=now)
        if order.payment_id is not None:
            payment = await payments_service.get_payment(session, payment_id=order.payment_id)
            if payment.status in OPEN:
                await payments_service.close_payment(session, payment=payment)
                await session.execute(
                    update(Order)
                    .where(
                        Order.payment_id == payment.id,
                        Order.id != order.id,
                        Order.status == S.PLACED,
                    )
                    .values(payment_id=None)
                )
    await redemption_service.void_codes(session, subject=order.reference)


# -- the store's work -------------------------------------------------------------------------
async def transition(
    session: AsyncSession,
    *,
    order: Order,
    to: OrderStatus,
    actor_user_id: int,
    reason: str = "",
    providers: Providers,
    now: datetime | None = None,
) -> Order:
    """Staff move an order on (accept, prepare, ready, hand over, ship, deliver) or reject it
    with a reason (refunded and restocked)."""
    now = now or utcnow()
    await lock_order(session, order)
    was = order.status
    if not state.staff_may(order.fulfilment, was, to):
        allowed = ", ".join(s.value for s in state.staff_next(order.fulfilment, was)) or "none"
        raise InvalidTransition(
            f"A {order.fulfilment.value} order cannot go from {was.value} to {to.value}; "
            f"next steps: {allowed}.",
            field="to",
            allowed=[s.value for s in state.staff_next(order.fulfilment, was)],
        )
    if to == S.REJECTED and not reason.strip():
        raise InvalidTransition("Say why the order is rejected (reason).", field="reason")
    extra: dict[str, object] = {}
    if to == S.READY:
        extra["ready_at"] = now
    if to == S.REJECTED:
        extra["reason"] = reason.strip()[:300]
    await move(session, order, to, actor_user_id=actor_user_id, note=reason, now=now, **extra)
    if to == S.REJECTED:
        await unwind(
            session,
            order,
            was=was,
            providers=providers,
            actor_user_id=actor_user_id,
            reason=f"rejected: {reason}",
            now=now,
        )
    return order


async def cancel(
    session: AsyncSession,
    *,
    order: Order,
    actor_user_id: int | None,
    reason: str,
    providers: Providers,
    now: datetime | None = None,
) -> Order:
    """The shopper cancels before the store started on it: holds released, money refunded."""
    now = now or utcnow()
    await lock_order(session, order)
    was = order.status
    if was not in state.SHOPPER_CANCELS[order.fulfilment]:
        raise InvalidTransition(
            f"The order is {was.value}; it can no longer be cancelled online. "
            "Ask the store, or return the items after collecting them.",
            field="status",
        )
    await move(
        session,
        order,
        S.CANCELLED,
        actor_user_id=actor_user_id,
        note=reason,
        now=now,
        reason=reason.strip()[:300] or "cancelled by the shopper",
    )
    await unwind(
        session,
        order,
        was=was,
        providers=providers,
        actor_user_id=actor_user_id,
        reason="cancelled by the shopper",
        now=now,
    )
    return order


async def collect(
    session: AsyncSession, *, order: Order, actor_user_id: int, now: datetime | None = None
) -> Order:
    """The code was redeemed at the counter: hand the order over. A reserve-to-try hold
    becomes a sale here (the shopper pays at the till)."""
    now = now or utcnow()
    await lock_order(session, order)
    if order.status not in state.COLLECTABLE.get(order.fulfilment, frozenset()):
        raise InvalidTransition(
            f"The order is {order.status.value}; it cannot be collected.", field="code"
        )
    if order.fulfilment == Fulfilment.RESERVE and not await secure_stock(session, order, now=now):
        raise InsufficientStock("The reserved items are no longer in stock.", field="code")
    await move(session, order, S.COLLECTED, actor_user_id=actor_user_id, now=now)
    return order
