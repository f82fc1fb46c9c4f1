from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from o2o.core.clock import utcnow
from o2o.core.db import Base, BigId, UTCDateTime


class Notification(Base):
    """Something a user should know (their order is ready); ``kind`` says what, ``data`` the
    facts; pages phrase it in the reader's language."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(48))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The event that caused it: a relay retry must not notify twice.
    source: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
