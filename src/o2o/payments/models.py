"""Payments, refunds, and the log of every provider notification received."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from o2o.core.clock import utcnow
from o2o.core.db import Base, BigId, UTCDateTime, str_enum


class PaymentStatus(enum.StrEnum):
    """creating -> pending -> succeeded | closed; creating -> failed | closed.

    ``creating``: recorded (its number fixed) and committed, the provider being asked for the
    charge; ``failed``: the provider refused the charge or gave no answer, no QR was shown."""

    CREATING = "creating"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    CLOSED = "closed"  # given up before any money moved (order cancelled or expired)
    FAILED = "failed"


# Statuses in which the shopper may still pay (or the provider may still take the money).
OPEN = (PaymentStatus.CREATING, PaymentStatus.PENDING)


class Payment(Base):
    """One charge of ``amount`` minor units for ``reference`` (a checkout's orders)."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("refunded >= 0 AND refunded <= amount", name="refunded_within_amount"),
        Index("ix_payments_reference", "reference"),
        Index("ix_payments_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(120))
    payer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PaymentStatus] = mapped_column(
        str_enum(PaymentStatus), default=PaymentStatus.PENDING
    )
    refunded: Mapped[int] = mapped_column(Integer, default=0)
    qr_payload: Mapped[str] = mapped_column(String(500), default="")
    provider_trade_no: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RefundStatus(enum.StrEnum):
    """pending -> succeeded, pending -> failed -> pending (retried by an operator)."""

    PENDING = "pending"  # decided and counted; the provider has not confirmed it yet
    SUCCEEDED = "succeeded"  # the provider made it
    FAILED = "failed"  # the provider refused it; still owed, waits for a retry


class Refund(Base):
    """Money given back from a payment; ``request_no`` is unique per payment and fixed when
    the refund is decided: every call to the provider for this refund carries it, so the
    provider makes it at most once however often it is asked."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("payment_id", "request_no"),
        Index("ix_refunds_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"))
    request_no: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str] = mapped_column(String(120), default="")
    provider_refund_no: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[RefundStatus] = mapped_column(
        str_enum(RefundStatus), default=RefundStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationOutcome(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class PaymentNotification(Base):
    """Every notification a provider sent, with what became of it and why."""

    __tablename__ = "payment_notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"))
    outcome: Mapped[NotificationOutcome] = mapped_column(str_enum(NotificationOutcome))
    reason: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
