"""Orders, their lines, and the timeline of every status change."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from o2o.core.clock import utcnow
from o2o.core.db import Base, BigId, UTCDateTime, str_enum


class Fulfilment(enum.StrEnum):
    PICKUP = "pickup"
    RESERVE = "reserve"
    DELIVERY = "delivery"
    SHIPPING = "shipping"


class OrderStatus(enum.StrEnum):
    PLACED = "placed"
    PAID = "paid"
    ACCEPTED = "accepted"
    PREPARING = "preparing"
    READY = "ready"
    OUT_FOR_DELIVERY = "out_for_delivery"
    SHIPPED = "shipped"
    COLLECTED = "collected"
    DELIVERED = "delivered"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Order(Base):
    """One store's part of a checkout. Orders of one checkout share ``checkout_ref`` and are
    paid together. ``hold_until`` is when an unpaid order's reservation (or a reserve-to-try
    hold) ends."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("subtotal >= 0 AND discount >= 0 AND fee >= 0", name="amounts"),
        CheckConstraint("total = subtotal - discount + fee", name="total_adds_up"),
        CheckConstraint("refunded >= 0 AND refunded <= total", name="refunded_within_total"),
        Index("ix_orders_shopper", "shopper_id", "id"),
        Index("ix_orders_store_status", "store_id", "status", "id"),
        Index("ix_orders_status_hold", "status", "hold_until"),
        Index("ix_orders_checkout", "checkout_ref"),
        Index("ix_orders_payment", "payment_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    checkout_ref: Mapped[str] = mapped_column(String(32))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    shopper_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    fulfilment: Mapped[Fulfilment] = mapped_column(str_enum(Fulfilment))
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(Integer)
    discount: Mapped[int] = mapped_column(Integer, default=0)
    fee: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer)
    refunded: Mapped[int] = mapped_column(Integer, default=0)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pickup_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pickup_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    address_lat: Mapped[float | None] = mapped_column(Float)
    address_lng: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[int | None] = mapped_column(Integer)
    promised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def reference(self) -> str:
        """How other domains (reservations, payments, codes) refer to this order."""
        return f"order:{self.id}"


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("returned_qty >= 0 AND returned_qty <= qty", name="returned_within_qty"),
        Index("ix_order_lines_order", "order_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    title: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str] = mapped_column(String(64))
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    unit_price: Mapped[int] = mapped_column(Integer)
    qty: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[int] = mapped_column(Integer)
    returned_qty: Mapped[int] = mapped_column(Integer, default=0)


class OrderEvent(Base):
    """One step of an order's timeline: who moved it where, when, and why."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order", "order_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(24))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
