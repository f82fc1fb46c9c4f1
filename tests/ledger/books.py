"""What the ledger state machine checks after every step, and the world it runs in: the
books balance, reconcile with payments and orders, settle to the minor unit, and charge
and give back commission by the rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from o2o.catalog import service as catalog_service
from o2o.core.clock import utcnow
from o2o.ledger import accounts, audit, commission
from o2o.ledger.models import Entry, Journal, JournalKind
from o2o.ledger.queries import statements
from o2o.merchants import service as merchants_service
from o2o.orders import ledger_check
from o2o.orders.policy import OrderPolicy
from o2o.payments.models import Payment, PaymentStatus, Refund
from tests.factories import (
    make_merchant,
    make_product,
    make_region,
    make_staff,
    make_store,
    make_user,
    stock,
)

POLICY = OrderPolicy()


async def check_books(s: AsyncSession, *, merchants: list[int], stranded: int) -> None:
    """What must hold after every step: see the state machine's docstring."""
    found = await ledger_check.differences(s)
    balances = await audit.balances(s)
    # Money that came for orders no longer on the payment went straight back to the payer
    assert balances.get((accounts.UNALLOCATED_RECEIPTS, "CNY"), 0) == 0
    unclaimed = await s.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.reference.like("payment:%"))
    )
    assert int(unclaimed or 0) == stranded
    assert found == []
    assert sum(balances.values()) == 0
    payable = sum(b for (a, _c), b in balances.items() if accounts.is_payable(a))
    fees = balances.get((accounts.PLATFORM_COMMISSION, "CNY"), 0)
    captured = await s.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.status == PaymentStatus.SUCCEEDED
        )
    )
    refunded = await s.scalar(select(func.coalesce(func.sum(Refund.amount), 0)))
    assert balances.get((accounts.REFUNDS_DUE, "CNY"), 0) == 0
    assert -(payable + fees) == int(captured or 0) - int(refunded or 0)
    # Each merchant's statements add up to its payable account, to the minor unit
    today = utcnow().date()
    for merchant_id in merchants:
        days = await statements.days(
            s,
            merchant_id=merchant_id,
            start=today - timedelta(days=2),
            end=today + timedelta(days=2),
        )
        owed = sum(d.totals.net_payable for d in days)
        assert owed == -balances.get((accounts.merchant_payable(merchant_id), "CNY"), 0)
    await check_commission(s, merchants=merchants)


async def check_commission(session: AsyncSession, *, merchants: list[int]) -> None:
    """Per order sold: commission charged at its merchant's rate, rounded half up, and
    given back by the cumulative proportional rule; all of it after a full refund."""
    rows = await session.execute(
        select(
            Entry.order_id,
            Entry.merchant_id,
            Journal.kind,
            Entry.account,
            func.sum(Entry.amount),
        )
        .join(Journal, Journal.id == Entry.journal_id)
        .where(Entry.order_id.is_not(None))
        .group_by(Entry.order_id, Entry.merchant_id, Journal.kind, Entry.account)
    )
    money: dict[tuple[int, str, str], int] = {}
    merchant_of: dict[int, int] = {}
    for order_id, merchant_id, kind, account, total in rows.all():
        kind_of = "fee" if account == accounts.PLATFORM_COMMISSION else account.split(":")[0]
        money[(order_id, kind, kind_of)] = money.get((order_id, kind, kind_of), 0) + total
        merchant_of[order_id] = merchant_id
    rates = {merchants[0]: POLICY.commission_bps_default, merchants[1]: 333}
    for order_id, merchant_id in merchant_of.items():
        fee = -money.get((order_id, JournalKind.CAPTURE, "fee"), 0)
        sold = fee - money.get((order_id, JournalKind.CAPTURE, "merchant_payable"), 0)
        if not sold:
            continue  # never sold: paid after it had ended
        assert fee == commission.charge(sold, rates[merchant_id])
        refunded = -money.get((order_id, JournalKind.REFUND, "provider_clearing"), 0)
        given_back = money.get((order_id, JournalKind.REFUND, "fee"), 0)
        assert given_back == commission.reversed_after(
            commission=fee, total=sold, refunded=refunded
        )
        if refunded == sold:
            assert given_back == fee


async def build_world(session: AsyncSession) -> dict[str, Any]:
    """One shopper, two merchants (the platform's default rate, and 3.33%) with a store each
    and odd prices, so that commission rounds."""
    region = await make_region(session)
    world: dict[str, Any] = {"stores": [], "merchants": [], "variants": []}
    for rate, prices in ((None, (1999, 333)), (333, (2999, 1))):
        merchant = await make_merchant(session)
        await merchants_service.set_commission(
            session, merchant_id=merchant.id, commission_bps=rate
        )
        store = await make_store(session, merchant=merchant, region=region)
        product = await make_product(session, merchant=merchant, sizes=("S", "M"))
        variants = await catalog_service.variants_of(session, product.id)
        for variant, price in zip(variants, prices, strict=True):
            variant.price = price
            await stock(session, store=store, variant_id=variant.id, qty=10_000)
        staff, _ = await make_staff(session, merchant=merchant, role=MemberRole.OWNER)
        world["stores"].append(store.id)
        world["merchants"].append(merchant.id)
        world["variants"].append([v.id for v in variants])
        world["staff_id"] = staff.id
    world["shopper_id"] = (await make_user(session)).id
    await session.commit()
    return world
