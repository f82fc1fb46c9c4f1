"""Regions: the cities a shopper picks first; all regional data hangs off one."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from o2o.core.db import Base, BigId


class Region(Base):
    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint("min_lat < max_lat AND min_lng < max_lng", name="bounds_ordered"),
        CheckConstraint(
            "center_lat BETWEEN -90 AND 90 AND center_lng BETWEEN -180 AND 180", name="center_valid"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    center_lat: Mapped[float] = mapped_column(Float)
    center_lng: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    min_lng: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    max_lng: Mapped[float] = mapped_column(Float)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
