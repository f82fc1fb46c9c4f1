"""Write events and jobs in the caller's transaction; a relay handles them after commit.

``emit()`` adds a row to the session: it commits or rolls back with the state change it
announces, so no event is lost when a process dies after a commit and none is sent for a
change that did not happen. ``claim_due()`` hands due messages to one relay at a time
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the writer lock on SQLite); handling is at least
once, so handlers are idempotent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.outbox_models import OutboxMessage

MAX_ATTEMPTS = 12
# A claimed message is hidden this long; a relay that dies mid-way frees it by timing out.
LEASE = timedelta(minutes=2)


def emit(
    session: AsyncSession,
    topic: str,
    payload: dict[str, Any],
    *,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Queue ``payload`` on ``topic`` as part of the current transaction."""
    message = OutboxMessage(topic=topic, payload=payload, available_at=not_before or utcnow())
    session.add(message)
    return message


def backoff(attempts: int) -> timedelta:
    """Seconds before the next try: 2, 4, 8 … capped at one hour."""
    return timedelta(seconds=min(2**attempts, 3600))


async def claim_due(
    session: AsyncSession, *, limit: int = 50, now: datetime | None = None
) -> list[OutboxMessage]:
    """Lease up to ``limit`` due messages to the caller (who commits the lease at once)."""
    now = now or utcnow()
    rows = list(
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.processed_at.is_(None), OutboxMessage.available_at <= now)
            .order_by(OutboxMessage.available_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for message in rows:
        message.available_at = now + LEASE
        message.attempts += 1
    await session.flush()
    return rows


async def mark_done(session: AsyncSession, *, message_id: int) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(processed_at=utcnow(), last_error="")
    )


async def mark_failed(session: AsyncSession, *, message_id: int, attempts: int, error: str) -> None:
    """Schedule a retry with back-off, or give up after ``MAX_ATTEMPTS``."""
    now = utcnow()
    values: dict[str, Any] = {"last_error": error[:2000], "available_at": now + backoff(attempts)}
    if attempts >= MAX_ATTEMPTS:
        values |= {"processed_at": now, "failed_at": now}
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values)
    )
