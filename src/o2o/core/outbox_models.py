"""The transactional outbox: messages written with the state change they announce."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from o2o.core.clock import utcnow
from o2o.core.db import Base, BigId, UTCDateTime


class OutboxMessage(Base):
    """One event or job. The relay handles it after commit, retrying until it succeeds."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "processed_at", "available_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    topic: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Not before this instant: the first try, then each retry's back-off.
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the message is given up after too many attempts (kept for operators).
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
