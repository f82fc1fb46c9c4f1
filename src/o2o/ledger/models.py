"""The ledger's two tables: journals (one money event each) and their entries.

Every journal's entries add up to zero (debits positive, credits negative, in minor units of
the journal's one currency): ``o2o.ledger.service.post`` refuses anything else, and nothing
updates or deletes a row once written. A journal's ``reference`` is unique, so posting the
same event twice writes it once.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from o2o.core.clock import utcnow
from o2o.core.db import Base, BigId, UTCDateTime, str_enum


class JournalKind(enum.StrEnum):
    CAPTURE = "capture"  # a payment arrived: allocated to the orders it paid for
    REFUND = "refund"  # money given back to the shopper through the provider


class Journal(Base):
    """One money event. ``business_date`` is the local date of ``occurred_at`` in the region
    of the orders concerned: the day a settlement statement counts it in."""

    __tablename__ = "ledger_journals"
    __table_args__ = (
        Index("ix_ledger_journals_business_date", "business_date", "id"),
        Index("ix_ledger_journals_payment_id", "payment_id"),
        Index("ix_ledger_journals_refund_id", "refund_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[JournalKind] = mapped_column(str_enum(JournalKind))
    reference: Mapped[str] = mapped_column(String(120), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    business_date: Mapped[date] = mapped_column(Date)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    memo: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Entry(Base):
    """One side of a journal: ``amount`` minor units on ``account`` (debit > 0 > credit).

    ``merchant_id`` and ``order_id`` say whose sale the entry belongs to, so statements and
    checks read entries without parsing account names."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_nonzero"),
        Index("ix_ledger_entries_journal_id", "journal_id"),
        Index("ix_ledger_entries_merchant_id", "merchant_id", "journal_id"),
        Index("ix_ledger_entries_order_id", "order_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    journal_id: Mapped[int] = mapped_column(ForeignKey("ledger_journals.id"))
    account: Mapped[str] = mapped_column(String(80))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
