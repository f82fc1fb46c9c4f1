"""The ledger against the payments and orders tables: what ``o2o ledger check`` reports.

The ledger sits beside payments (neither imports the other); orders, above both, is where
the two are compared.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.ledger import audit
from o2o.ledger.audit import Difference
from o2o.orders.models import Order
from o2o.payments.models import Payment, PaymentStatus, Refund


async def differences(session: AsyncSession) -> list[Difference]:
    """Everything that does not reconcile, empty when all is well:

    - the ledger's own checks (``o2o.ledger.audit.ledger_differences``);
    - money into clearing for each payment = the amount of each succeeded payment, and
      nothing for any other payment;
    - money out of clearing for each refund = the refund's amount; per payment, the refunds
      in the ledger add up to the payment's refunded total;
    - per order paid online: its sale in the ledger = its total; its refunds = its refunded.
    """
    found = await audit.ledger_differences(session)
    captured = await audit.captured_by_payment(session)
    refunded = await audit.refunded_by_refund(session)
    payments = {
        p.id: p
        for p in await session.scalars(
            select(Payment).where(Payment.status == PaymentStatus.SUCCEEDED)
        )
    }
    for payment_id in sorted(set(payments) | set(captured)):
        p = payments.get(payment_id) or await session.get(Payment, payment_id)
        expected = p.amount if p is not None and p.status == PaymentStatus.SUCCEEDED else 0
        if captured.get(payment_id, 0) != expected:
            found.append(
                Difference(
                    "payment_capture",
                    f"payment {payment_id}",
                    expected,
                    captured.get(payment_id, 0),
                )
            )
    refund_rows = list(await session.scalars(select(Refund).order_by(Refund.id)))
    by_payment: dict[int, int] = {}
    for r in refund_rows:
        by_payment[r.payment_id] = by_payment.get(r.payment_id, 0) + refunded.get(r.id, 0)
        if refunded.get(r.id, 0) != r.amount:
            found.append(
                Difference(
                    "refund",
                    f"refund {r.id} of payment {r.payment_id}",
                    r.amount,
                    refunded.get(r.id, 0),
                )
            )
    known = {r.id for r in refund_rows}
    found += [
        Difference("refund", f"refund {rid} (no such refund)", 0, amount)
        for rid, amount in sorted(refunded.items())
        if rid not in known
    ]
    for payment_id, total in sorted(by_payment.items()):
        p = payments.get(payment_id) or await session.get(Payment, payment_id)
        if p is not None and p.refunded != total:
            found.append(Difference("payment_refunded", f"payment {payment_id}", p.refunded, total))
    found += await _orders(session)
    return found


async def _orders(session: AsyncSession) -> list[Difference]:
    by_order = await audit.sold_and_refunded_by_order(session)
    found: list[Difference] = []
    # Every order the ledger knows was paid online, and keeps its payment: one scan, no
    # list of ids (a big ledger's would pass the drivers' limit on parameters).
    orders = await session.execute(
        select(Order.id, Order.total, Order.refunded, Order.paid_at).where(
            Order.payment_id.is_not(None)
        )
    )
    seen: set[int] = set()
    for order_id, total, refunded, paid_at in orders.all():
        seen.add(order_id)
        sold, back = by_order.get(order_id, (0, 0))
        if sold != (total if paid_at is not None else 0):
            found.append(Difference("order_sale", f"order {order_id}", total, sold))
        if back != refunded:
            found.append(Difference("order_refunded", f"order {order_id}", refunded, back))
    found += [
        Difference("order_unknown", f"order {order_id}", 0, sold, "not paid online")
        for order_id, (sold, _back) in sorted(by_order.items())
        if order_id not in seen
    ]
    return found
