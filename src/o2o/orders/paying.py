"""Paying for orders: start a payment for a checkout, and apply one that succeeded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.errors import DomainError
from o2o.core.outbox import emit
from o2o.ledger import service as ledger_service
from o2o.orders import service
from o2o.orders.events import order_payload
from o2o.orders.exceptions import NotPayable
from o2o.orders.models import Fulfilment, Order, OrderStatus
from o2o.orders.policy import OrderPolicy
from o2o.payments import service as payments_service
from o2o.payments.exceptions import PaymentInProgress
from o2o.payments.models import OPEN, Payment, PaymentStatus
from o2o.payments.service import Providers
from o2o.redemption import service as redemption_service
from o2o.redemption.models import CodeKind

S = OrderStatus


async def start_payment(
    session: AsyncSession,
    *,
    order_id: int,
    shopper_id: int,
    provider_name: str,
    providers: Providers,
    now: datetime | None = None,
) -> Payment:
    """A payment for every unpaid order of the order's checkout (they are paid together).
    Asking again while one is pending returns it, so a shopper who reloads sees the same QR.

    The one use case that owns its transactions, because the provider is asked in the middle
    and no lock may be held meanwhile: call it with nothing uncommitted. (1) ``begin_payment``
    records the payment ``creating`` and links the orders, committed, the order's lock
    released; (2) the provider is asked for the charge, outside any transaction; (3) the QR is
    recorded (``pending``) and left for the caller to commit, or, when the provider refused or
    gave no answer, the attempt is recorded ``failed``, the orders are freed for a new try,
    that is committed and the provider's error raised (502/503 problem details)."""
    provider = providers.get(provider_name)
    payment = await begin_payment(
        session,
        order_id=order_id,
        shopper_id=shopper_id,
        provider_name=provider.name,
        providers=providers,
        now=now,
    )
    if payment.status != PaymentStatus.CREATING:
        return payment  # the pending one, already charged
    await session.commit()
    try:
        charge = await payments_service.charge(session, provider=provider, payment=payment)
    except DomainError as exc:
        await session.rollback()  # whatever the demo wallet wrote before it failed
        await payments_service.fail_charge(session, payment=payment, error=exc)
        await _free_orders(session, payment_id=payment.id)
        await session.commit()
        raise
    if not await payments_service.record_charge(session, payment=payment, charge=charge):
        # Cancelled (or replaced) while the provider answered: its trade is being closed.
        raise NotPayable("The order was cancelled while its payment was being created.")
    return payment


async def begin_payment(
    session: AsyncSession,
    *,
    order_id: int,
    shopper_id: int,
    provider_name: str,
    providers: Providers,
    now: datetime | None = None,
) -> Payment:
    """The first step of ``start_payment``, in one transaction under the order's lock: the
    pending payment that already covers the checkout with this provider (returned as is), or
    a new one ``creating`` linked to every unpaid order of the checkout. A payment another
    request is still creating is ``PaymentInProgress``, so two starts make one provider
    trade; one left ``creating`` by a request that is gone, or for another provider, is
    closed (its trade closed at the provider after commit)."""
    now = now or utcnow()
    provider = providers.get(provider_name)
    order = await service.order_of_shopper(session, order_id=order_id, shopper_id=shopper_id)
    await service.lock_order(session, order)
    if order.fulfilment == Fulfilment.RESERVE:
        raise NotPayable("A reservation to try is paid at the store, not online.")
    if order.status != S.PLACED:
        raise NotPayable(f"The order is {order.status.value}; only a placed order can be paid.")
    if order.hold_until is not None and order.hold_until <= now:
        raise NotPayable("The time to pay has run out; place the order again.")
    unpaid = [
        o
        for o in await service.checkout_of(session, checkout_ref=order.checkout_ref)
        if o.status == S.PLACED and o.shopper_id == shopper_id
    ]
    if order.payment_id is not None:
        current = await payments_service.get_payment(session, payment_id=order.payment_id)
        covered = all(o.payment_id == current.id for o in unpaid)
        same = current.provider == provider.name and covered
        if current.status == PaymentStatus.PENDING and same:
            return current
        if current.status == PaymentStatus.CREATING and not payments_service.is_stale(
            current, now=now
        ):
            raise PaymentInProgress(
                "This order's payment is being created; try again in a moment.",
                payment_id=current.id,
            )
        if current.status in OPEN:
            await payments_service.close_payment(session, payment=current)
    holds = [o.hold_until for o in unpaid if o.hold_until is not None]
    payment = await payments_service.intend_payment(
        session,
        provider=provider,
        reference=f"checkout:{order.checkout_ref}",
        amount=sum(o.total for o in unpaid),
        currency=order.currency,
        payer_user_id=shopper_id,
        expires_at=min(holds) if holds else now,
    )
    await session.execute(
        update(Order).where(Order.id.in_([o.id for o in unpaid])).values(payment_id=payment.id)
    )
    return payment


async def _free_orders(session: AsyncSession, *, payment_id: int) -> None:
    """The placed orders of a failed payment may be paid afresh (a new payment, a new number)."""
    await session.execute(
        update(Order)
        .where(Order.payment_id == payment_id, Order.status == S.PLACED)
        .values(payment_id=None)
    )


async def apply_payment(
    session: AsyncSession,
    *,
    payment: Payment,
    providers: Providers,
    policy: OrderPolicy | None = None,
    now: datetime | None = None,
) -> list[Order]:
    """A payment succeeded: its placed orders become paid (their holds become a sale). An
    order that can no longer be honoured (it expired and its units are gone, or it was
    cancelled) is refunded instead. The ledger records where the money went (sales net of
    commission, money owed back) before any of it is refunded. Returns the orders now paid."""
    now = now or utcnow()
    paid: list[Order] = []
    unhonoured: list[Order] = []
    orders = list(
        await session.scalars(
            select(Order).where(Order.payment_id == payment.id).order_by(Order.id)
        )
    )
    for order in orders:
        if order.status == S.PLACED and await service.secure_stock(session, order, now=now):
            await service.move(session, order, S.PAID, actor_user_id=None, now=now, paid_at=now)
            await after_paid(session, order)
            paid.append(order)
        elif order.status in (S.PLACED, S.EXPIRED, S.CANCELLED):
            if order.status == S.PLACED:
                await service.move(
                    session,
                    order,
                    S.CANCELLED,
                    actor_user_id=None,
                    now=now,
                    note="out_of_stock",
                    reason="Sold out before the payment arrived.",
                )
            unhonoured.append(order)
    await ledger_service.record_capture(
        session,
        payment_id=payment.id,
        provider=payment.provider,
        amount=payment.amount,
        currency=payment.currency,
        occurred_at=now,
        sold=[service.ledger_share(o) for o in paid],
        unhonoured=[service.ledger_share(o) for o in unhonoured],
        default_bps=(policy or OrderPolicy()).commission_bps_default,
    )
    for order in unhonoured:
        await service.refund(session, order, providers=providers, reason="order not fulfilled")
    claimed = sum(o.total for o in (*paid, *unhonoured))
    if payment.amount > claimed:
        await _refund_unclaimed(
            session,
            payment=payment,
            amount=payment.amount - claimed,
            prefix=providers.trade_no_prefix,
        )
    return paid


async def _refund_unclaimed(
    session: AsyncSession, *, payment: Payment, amount: int, prefix: str
) -> None:
    """The provider took money for orders no longer on this payment (say, a checkout's other
    order moved to a new payment after one was cancelled while this one was pending, and the
    provider captured it anyway): it goes straight back to the payer, never kept."""
    reason = "paid for orders no longer on this payment"
    done = await payments_service.refund(
        session,
        payment_id=payment.id,
        amount=amount,
        reason=reason,
        reference=f"payment:{payment.id}",
        number_prefix=prefix,
    )
    await ledger_service.record_unallocated_refund(
        session,
        refund_id=done.id,
        provider=payment.provider,
        amount=amount,
        currency=payment.currency,
        occurred_at=done.created_at,
        memo=reason,
    )


async def after_paid(session: AsyncSession, order: Order) -> None:
    if order.fulfilment == Fulfilment.PICKUP:
        await redemption_service.issue_code(
            session,
            kind=CodeKind.PICKUP,
            merchant_id=order.merchant_id,
            store_id=order.store_id,
            subject=order.reference,
        )
    elif order.fulfilment == Fulfilment.DELIVERY:
        emit(
            session,
            service.DELIVERY_REQUESTED,
            {
                **order_payload(order),
                "address": order.address,
                "promised_at": order.promised_at.isoformat() if order.promised_at else None,
            },
        )


async def orders_of_payment(session: AsyncSession, *, payment_id: int) -> list[Order]:
    return list(
        await session.scalars(
            select(Order).where(Order.payment_id == payment_id).order_by(Order.id)
        )
    )
