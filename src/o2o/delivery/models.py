"""The live delivery system's tables: couriers, their shifts and positions, and deliveries.

The dispatch engine (``model``, ``dispatch``) is pure; these rows are what the live system
reads into a ``Snapshot`` and writes a ``Plan`` back to.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from o2o.core.clock import utcnow
from o2o.core.db import Base, BigId, UTCDateTime, str_enum

# A courier carries at most this many open deliveries (the engine's bundle limit).
MAX_OPEN = 3


class Vehicle(enum.StrEnum):
    BICYCLE = "bicycle"
    EBIKE = "ebike"
    SCOOTER = "scooter"
    CAR = "car"


# Typical city speeds in metres per second (an e-bike ~15 km/h in traffic).
VEHICLE_SPEED: dict[Vehicle, float] = {
    Vehicle.BICYCLE: 3.5,
    Vehicle.EBIKE: 4.2,
    Vehicle.SCOOTER: 5.0,
    Vehicle.CAR: 5.5,
}


class DeliveryStatus(enum.StrEnum):
    REQUESTED = "requested"  # waiting for a courier
    ASSIGNED = "assigned"  # a courier holds it, goods still at the store
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    FAILED = "failed"  # the courier could not hand it over; goods on the way back
    RETURNED = "returned"  # back at the store
    BY_STORE = "by_store"  # the store's own staff carry it: no platform courier
    CANCELLED = "cancelled"  # the order ended (rejected, cancelled) before a courier had it


# A courier's open deliveries: what counts against MAX_OPEN and keeps its trail.
ACTIVE = frozenset({DeliveryStatus.ASSIGNED, DeliveryStatus.PICKED_UP})


class Courier(Base):
    """A courier's profile, shift flag and last known position. ``open_count`` is the number
    of its deliveries assigned or picked up; the CHECK keeps it within the bundle limit, and
    every change of it is a conditional update, so two dispatchers cannot overload one."""

    __tablename__ = "couriers"
    __table_args__ = (
        CheckConstraint(f"open_count >= 0 AND open_count <= {MAX_OPEN}", name="open_within_limit"),
        CheckConstraint("speed_m_per_s > 0", name="speed_positive"),
        Index("ix_couriers_region_shift", "region_id", "on_shift"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    vehicle: Mapped[Vehicle] = mapped_column(str_enum(Vehicle), default=Vehicle.EBIKE)
    speed_m_per_s: Mapped[float] = mapped_column(Float, default=VEHICLE_SPEED[Vehicle.EBIKE])
    on_shift: Mapped[bool] = mapped_column(Boolean, default=False)
    open_count: Mapped[int] = mapped_column(Integer, default=0)
    last_lat: Mapped[float | None] = mapped_column(Float)
    last_lng: Mapped[float | None] = mapped_column(Float)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the position's time
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourierShift(Base):
    """One stretch on shift; at most one open (``ended_at`` NULL) per courier."""

    __tablename__ = "courier_shifts"
    __table_args__ = (
        Index(
            "uq_courier_shifts_open",
            "courier_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index("ix_courier_shifts_courier_started", "courier_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.user_id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """The trip of one delivery order. ``order_id`` is unique (one delivery per order), and a
    courier is set exactly when the delivery has left ``requested`` for a courier (not when
    the store's own staff carry it, ``by_store``, nor once it is ``cancelled``)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(
            "(status IN ('requested', 'by_store', 'cancelled') AND courier_id IS NULL)"
            " OR (status NOT IN ('requested', 'by_store', 'cancelled') AND courier_id IS NOT NULL)",
            name="courier_iff_assigned",
        ),
        Index("ix_deliveries_status", "status", "id"),
        Index("ix_deliveries_courier_status", "courier_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.REQUESTED
    )
    courier_id: Mapped[int | None] = mapped_column(ForeignKey("couriers.user_id"))
    declines: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CourierPosition(Base):
    """A point of a courier's trail, kept only while it has an open delivery (purged when its
    last one is delivered or returned)."""

    __tablename__ = "courier_positions"
    __table_args__ = (Index("ix_courier_positions_courier_at", "courier_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.user_id", ondelete="CASCADE"))
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveryDecline(Base):
    """A courier declined a delivery: dispatch never offers that delivery to that courier
    again (the pair is the key, so declining twice records once)."""

    __tablename__ = "delivery_declines"

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    courier_id: Mapped[int] = mapped_column(
        ForeignKey("couriers.user_id", ondelete="CASCADE"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
