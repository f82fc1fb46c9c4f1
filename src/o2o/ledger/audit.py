"""What the ledger says, summed up for checking: balances, and money by payment, refund and
order. ``o2o.orders.ledger_check`` compares these with the payments and orders tables."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from o2o.ledger import accounts
from o2o.ledger.models import Entry, Journal, JournalKind

KNOWN = (accounts.PLATFORM_COMMISSION, accounts.REFUNDS_DUE, accounts.UNALLOCATED_RECEIPTS)


@dataclass(frozen=True)
class Difference:
    """One thing that does not reconcile: what, about what, expected and found amounts."""

    kind: str
    subject: str
    expected: int | None
    found: int | None
    detail: str = ""


def is_known(account: str) -> bool:
    return account in KNOWN or accounts.is_clearing(account) or accounts.is_payable(account)


async def journal_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Journal)) or 0)


async def unbalanced_journals(session: AsyncSession) -> list[Difference]:
    """Journals whose entries do not add up to zero in some currency, or that have fewer
    than two entries (``post`` writes neither)."""
    rows = (
        await session.execute(
            select(Journal.id, Journal.reference, Entry.currency, func.sum(Entry.amount))
            .join(Entry, Entry.journal_id == Journal.id, isouter=True)
            .group_by(Journal.id, Journal.reference, Entry.currency)
            .having((func.coalesce(func.sum(Entry.amount), 0) != 0) | (func.count(Entry.id) < 2))
            .order_by(Journal.id)
        )
    ).all()
    return [
        Difference("journal_unbalanced", f"journal {jid} ({ref})", 0, int(total or 0), cur or "")
        for jid, ref, cur, total in rows
    ]


async def balances(session: AsyncSession) -> dict[tuple[str, str], int]:
    """Every account's balance by currency: ``{(account, currency): debit − credit}``."""
    rows = (
        await session.execute(
            select(Entry.account, Entry.currency, func.sum(Entry.amount)).group_by(
                Entry.account, Entry.currency
            )
        )
    ).all()
    return {(account, currency): int(total) for account, currency, total in rows}


async def captured_by_payment(session: AsyncSession) -> dict[int, int]:
    """Money the ledger has received into clearing, by payment."""
    return await _clearing_by(session, JournalKind.CAPTURE, Journal.payment_id, 1)


async def refunded_by_refund(session: AsyncSession) -> dict[int, int]:
    """Money the ledger has paid out of clearing, by refund."""
    return await _clearing_by(session, JournalKind.REFUND, Journal.refund_id, -1)


async def _clearing_by(
    session: AsyncSession, kind: JournalKind, key: InstrumentedAttribute[int | None], sign: int
) -> dict[int, int]:
    rows = (
        await session.execute(
            select(key, func.sum(Entry.amount))
            .join(Journal, Journal.id == Entry.journal_id)
            .where(Journal.kind == kind, Entry.account.startswith(accounts.CLEARING_PREFIX))
            .group_by(key)
        )
    ).all()
    return {int(k): sign * int(total) for k, total in rows if k is not None}


async def sold_and_refunded_by_order(session: AsyncSession) -> dict[int, tuple[int, int]]:
    """By order: (gross sale credited to its merchant and commission, money refunded)."""
    on_merchant = Entry.account.startswith(accounts.PAYABLE_PREFIX) | (
        Entry.account == accounts.PLATFORM_COMMISSION
    )
    sold = (
        await session.execute(
            select(Entry.order_id, func.sum(Entry.amount))
            .join(Journal, Journal.id == Entry.journal_id)
            .where(Journal.kind == JournalKind.CAPTURE, on_merchant, Entry.order_id.is_not(None))
            .group_by(Entry.order_id)
        )
    ).all()
    refunded = (
        await session.execute(
            select(Entry.order_id, func.sum(Entry.amount))
            .join(Journal, Journal.id == Entry.journal_id)
            .where(
                Journal.kind == JournalKind.REFUND,
                Entry.account.startswith(accounts.CLEARING_PREFIX),
                Entry.order_id.is_not(None),
            )
            .group_by(Entry.order_id)
        )
    ).all()
    out: dict[int, tuple[int, int]] = {o: (-int(t), 0) for o, t in sold if o is not None}
    for o, t in refunded:
        if o is not None:
            out[o] = (out.get(o, (0, 0))[0], -int(t))
    return out


async def _unsettled(session: AsyncSession, account: str) -> list[Difference]:
    """Money waiting on ``account``: by the payment that brought it (unallocated receipts,
    which no refund touches) or by the order it is owed for (refunds due)."""
    unallocated = account == accounts.UNALLOCATED_RECEIPTS
    key = Journal.payment_id if unallocated else Entry.order_id
    rows = (
        await session.execute(
            select(key, Entry.currency, func.sum(Entry.amount))
            .join(Journal, Journal.id == Entry.journal_id)
            .where(Entry.account == account)
            .group_by(key, Entry.currency)
            .having(func.sum(Entry.amount) != 0)
            .order_by(key)
        )
    ).all()
    what, subject = (
        ("received for no order: refund it to the payer", "payment")
        if unallocated
        else ("owed back to the shopper: refund it", "order")
    )
    return [
        Difference("account_not_settled", account, 0, int(total), f"{subject} {k} ({cur}): {what}")
        for k, cur, total in rows
    ]


async def ledger_differences(session: AsyncSession) -> list[Difference]:
    """The checks the ledger can make on its own: every journal balances; the ledger sums to
    zero in each currency; no account outside the chart; refunds due and unallocated
    receipts are empty (money owed back was paid back, every receipt belongs to an order)."""
    found = await unbalanced_journals(session)
    by_currency: dict[str, int] = {}
    for (account, currency), balance in sorted((await balances(session)).items()):
        by_currency[currency] = by_currency.get(currency, 0) + balance
        if not is_known(account):
            found.append(Difference("unknown_account", account, None, balance, currency))
        elif account in (accounts.REFUNDS_DUE, accounts.UNALLOCATED_RECEIPTS) and balance:
            found += await _unsettled(session, account)
    found += [
        Difference("ledger_unbalanced", f"all journals in {currency}", 0, total, currency)
        for currency, total in sorted(by_currency.items())
        if total
    ]
    return found
