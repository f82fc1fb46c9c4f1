"""What came back over a store's returns desk: one row per return or exchange, one per line.

The order lines themselves carry the running ``returned_qty`` (the database refuses more than
was sold); these rows are the record of who took what back, where, when and for how much.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from o2o.core.clock import utcnow
from o2o.core.db import Base, BigId, UTCDateTime, str_enum


class ReturnKind(enum.StrEnum):
    RETURN = "return"  # the units come back, the money goes back
    EXCHANGE = "exchange"  # the units come back, others of the same price go out; no money


class OrderReturn(Base):
    """One visit to the returns desk for one order, at the receiving store."""

    __tablename__ = "order_returns"
    __table_args__ = (
        CheckConstraint("refund_amount >= 0", name="refund_non_negative"),
        CheckConstraint("kind = 'return' OR refund_amount = 0", name="exchange_moves_no_money"),
        Index("ix_order_returns_order", "order_id", "id"),
        Index("ix_order_returns_store", "store_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    # The receiving store: where the units went back on the shelf (not always the seller).
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    kind: Mapped[ReturnKind] = mapped_column(str_enum(ReturnKind))
    reason: Mapped[str] = mapped_column(String(300))
    restocked: Mapped[bool] = mapped_column(Boolean)
    refund_amount: Mapped[int] = mapped_column(Integer, default=0)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id", ondelete="SET NULL"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderReturnLine(Base):
    """Units of one order line that came back; for an exchange, the line that replaced them."""

    __tablename__ = "order_return_lines"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        Index("ix_order_return_lines_return", "return_id", "id"),
        Index("ix_order_return_lines_line", "order_line_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("order_returns.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    unit_price: Mapped[int] = mapped_column(Integer)
    qty: Mapped[int] = mapped_column(Integer)
    replacement_variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id"))
    replacement_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_lines.id", ondelete="SET NULL")
    )
