"""Merchants, their stores, and the category taxonomy shared by stores and products."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from o2o.core.clock import utcnow
from o2o.core.db import Base, BigId, UTCDateTime, str_enum


class MerchantStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))


class Merchant(Base):
    """A business on the platform. ``commission_bps`` is its negotiated commission rate in
    basis points (1/100 of a percent); None: the platform's default (a setting)."""

    __tablename__ = "merchants"
    __table_args__ = (
        CheckConstraint(
            "commission_bps IS NULL OR commission_bps BETWEEN 0 AND 10000",
            name="commission_bps_range",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    name_zh: Mapped[str] = mapped_column(String(160))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    status: Mapped[MerchantStatus] = mapped_column(
        str_enum(MerchantStatus), default=MerchantStatus.APPROVED
    )
    commission_bps: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Store(Base):
    """A physical location. ``cell`` is its grid cell (o2o.geo.grid), kept in step with lat/lng.

    ``opening_hours`` holds seven lists (Monday first) of ``[open, close]`` minute pairs in local
    time; ``close`` may pass 1440 for hours that run past midnight. ``hours_exceptions`` maps an
    ISO date to the intervals of that day (an empty list: closed).
    """

    __tablename__ = "stores"
    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180", name="position"),
        CheckConstraint("delivery_radius_m >= 0", name="radius_non_negative"),
        # Covering index for nearby search: range seeks on cell, no table lookups.
        Index("ix_stores_geo", "cell", "lat", "lng", "id", "category_id", "is_active"),
        Index("ix_stores_region_id", "region_id", "id"),
        Index("ix_stores_merchant_id", "merchant_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    name: Mapped[str] = mapped_column(String(160))
    name_zh: Mapped[str] = mapped_column(String(160))
    address: Mapped[str] = mapped_column(String(300), default="")
    address_zh: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    cell: Mapped[int] = mapped_column(Integer)
    opening_hours: Mapped[list[list[list[int]]]] = mapped_column(JSON)
    hours_exceptions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    offers_pickup: Mapped[bool] = mapped_column(Boolean, default=True)
    offers_reserve: Mapped[bool] = mapped_column(Boolean, default=False)
    offers_delivery: Mapped[bool] = mapped_column(Boolean, default=False)
    offers_shipping: Mapped[bool] = mapped_column(Boolean, default=False)
    offers_booking: Mapped[bool] = mapped_column(Boolean, default=False)
    offers_scan_go: Mapped[bool] = mapped_column(Boolean, default=False)
    delivery_radius_m: Mapped[int] = mapped_column(Integer, default=3000)
    # How the store takes orders (see ``merchants.schemas.OrderSettings``).
    prep_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    reserve_hold_minutes: Mapped[int] = mapped_column(Integer, default=240, server_default="240")
    delivery_fee: Mapped[int] = mapped_column(Integer, default=600, server_default="600")
    delivery_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    shipping_fee: Mapped[int] = mapped_column(Integer, default=1000, server_default="1000")
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    photo_key: Mapped[str | None] = mapped_column(String(200))
    search_text: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
