"""Redeemable codes and their one redemption."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from o2o.core.clock import utcnow
from o2o.core.db import Base, BigId, UTCDateTime, str_enum


class CodeKind(enum.StrEnum):
    PICKUP = "pickup"
    DELIVERY = "delivery"  # typed by the courier at the door, shown to the shopper


class CodeStatus(enum.StrEnum):
    ACTIVE = "active"
    REDEEMED = "redeemed"
    VOID = "void"  # the thing it stood for was cancelled


class RedemptionCode(Base):
    """A code good for one redemption at ``store_id`` (or, without one, any store of the
    merchant). ``subject`` names what it stands for (``order:12``)."""

    __tablename__ = "redemption_codes"
    __table_args__ = (Index("ix_redemption_codes_subject", "subject"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[CodeKind] = mapped_column(str_enum(CodeKind))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(120))
    status: Mapped[CodeStatus] = mapped_column(str_enum(CodeStatus), default=CodeStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redeemed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    redeemed_store_id: Mapped[int | None] = mapped_column(
        ForeignKey("stores.id", ondelete="SET NULL")
    )
