"""Stock per store and variant, and the append-only ledger of every change to it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Computed,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from o2o.core.clock import utcnow
from o2o.core.db import Base, BigId, UTCDateTime, str_enum


class MovementKind(enum.StrEnum):
    RESTOCK = "restock"
    ADJUSTMENT = "adjustment"
    SALE = "sale"
    POS_SALE = "pos_sale"
    RETURN = "return"
    TRANSFER = "transfer"


class StockLevel(Base):
    """On hand, reserved and (derived) available; the database refuses any negative stock.

    The store's region, cell, position and active flag are copied here (and kept in step by
    ``inventory.service.copy_store``) so that "nearby stores with this variant in stock" is
    one covering-index range scan per grid row, with no look-up of the store.
    """

    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("store_id", "variant_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_non_negative"),
        CheckConstraint("reserved >= 0", name="reserved_non_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        Index(
            "ix_stock_levels_geo",
            *("variant_id", "cell", "lat", "lng", "store_id", "available", "store_active"),
        ),
        Index("ix_stock_levels_variant_available", "variant_id", "available"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    cell: Mapped[int] = mapped_column(Integer)
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    store_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    available: Mapped[int] = mapped_column(Integer, Computed("on_hand - reserved", persisted=True))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class StockMovement(Base):
    """One signed change of on-hand stock. Rows are never updated or deleted (triggers)."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        Index("ix_stock_movements_level", "store_id", "variant_id", "id"),
        CheckConstraint("on_hand_after >= 0", name="on_hand_after_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    kind: Mapped[MovementKind] = mapped_column(str_enum(MovementKind))
    qty_delta: Mapped[int] = mapped_column(Integer)
    on_hand_after: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(120), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PosSale(Base):
    """An offline sale reported by a point-of-sale system, applied once per (store, sale)."""

    __tablename__ = "pos_sales"
    __table_args__ = (UniqueConstraint("store_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReservationStatus(enum.StrEnum):
    HELD = "held"
    CONVERTED = "converted"  # became a sale: on hand went down by the same quantity
    RELEASED = "released"  # given back (order cancelled, hold expired)


class Reservation(Base):
    """Units promised to a holder (``reference``, e.g. ``order:12``) until ``expires_at``.

    While ``held`` its quantity is counted in ``StockLevel.reserved``; leaving ``held`` is a
    conditional update on the status, so a reservation is released or converted exactly once.
    """

    __tablename__ = "stock_reservations"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        Index("ix_stock_reservations_reference", "reference"),
        Index("ix_stock_reservations_due", "status", "expires_at"),
        Index("ix_stock_reservations_level", "store_id", "variant_id", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))
    qty: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(120))
    status: Mapped[ReservationStatus] = mapped_column(
        str_enum(ReservationStatus), default=ReservationStatus.HELD
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
