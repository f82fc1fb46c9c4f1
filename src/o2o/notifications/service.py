"""Store a user's notifications (once per causing event) and read them back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.notifications.models import Notification


def channel(user_id: int) -> str:
    """The broker channel of a user's live news (their orders' changes)."""
    return f"user:{user_id}"


async def notify(
    session: AsyncSession, *, user_id: int, kind: str, data: dict[str, Any], source: str
) -> bool:
    """Record the notification; False if ``source`` was already recorded (a retry)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(Notification)
        .values(user_id=user_id, kind=kind, data=data, source=source, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["source"])
        .returning(Notification.id)
    )
    return result.one_or_none() is not None


async def recent(session: AsyncSession, *, user_id: int, limit: int = 20) -> list[Notification]:
    return list(
        await session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


async def mark_read(session: AsyncSession, *, user_id: int) -> None:
    await session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )


async def unread_count(session: AsyncSession, *, user_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return int(count or 0)
