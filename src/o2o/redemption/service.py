"""Issue codes and redeem them: at most once, only at the store they belong to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.redemption import codes
from o2o.redemption.exceptions import (
    AlreadyRedeemed,
    CodeOfAnotherStore,
    CodeVoid,
    UnknownCode,
)
from o2o.redemption.models import CodeKind, CodeStatus, RedemptionCode

_ATTEMPTS = 5


async def issue_code(
    session: AsyncSession,
    *,
    kind: CodeKind,
    merchant_id: int,
    store_id: int | None,
    subject: str,
) -> RedemptionCode:
    """A new active code for ``subject``; collisions (1 in 2^40 per pair) are retried."""
    for _ in range(_ATTEMPTS):
        row = RedemptionCode(
            code=codes.new_code(),
            kind=kind,
            merchant_id=merchant_id,
            store_id=store_id,
            subject=subject,
            status=CodeStatus.ACTIVE,
        )
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:
            continue
        return row
    raise RuntimeError("could not draw a unique code")  # pragma: no cover - 2^-200


async def code_for(session: AsyncSession, *, subject: str, kind: CodeKind) -> RedemptionCode | None:
    return await session.scalar(
        select(RedemptionCode).where(RedemptionCode.subject == subject, RedemptionCode.kind == kind)
    )


async def codes_for(
    session: AsyncSession, *, subjects: list[str], kind: CodeKind
) -> dict[str, RedemptionCode]:
    """The latest code of each subject, in one query."""
    found: dict[str, RedemptionCode] = {}
    for row in await session.scalars(
        select(RedemptionCode)
        .where(RedemptionCode.subject.in_(set(subjects)), RedemptionCode.kind == kind)
        .order_by(RedemptionCode.id)
    ):
        found[row.subject] = row
    return found


async def void_codes(session: AsyncSession, *, subject: str) -> None:
    """Cancel the active codes of ``subject`` (its order was cancelled)."""
    await session.execute(
        update(RedemptionCode)
        .where(RedemptionCode.subject == subject, RedemptionCode.status == CodeStatus.ACTIVE)
        .values(status=CodeStatus.VOID)
    )


async def find_code(
    session: AsyncSession, *, text: str, merchant_id: int, store_id: int
) -> RedemptionCode:
    """The code a clerk typed or scanned, if it exists and belongs to this store."""
    code = codes.normalize(text)
    if code is None:
        raise UnknownCode("This is not a valid code: check it and type it again.", field="code")
    found = await session.scalar(select(RedemptionCode).where(RedemptionCode.code == code))
    if found is None:
        raise UnknownCode("No code like this was issued.", field="code")
    belongs = found.merchant_id == merchant_id and found.store_id in (None, store_id)
    if not belongs:
        raise CodeOfAnotherStore("This code can only be redeemed at another store.", field="code")
    return found


async def mark_redeemed(
    session: AsyncSession,
    *,
    code: RedemptionCode,
    store_id: int,
    actor_user_id: int,
    now: datetime | None = None,
) -> RedemptionCode:
    """Redeem ``code`` at ``store_id``. The status changes by a conditional update, so of two
    counters redeeming the same code at once exactly one succeeds; the other gets
    ``already_redeemed``."""
    now = now or utcnow()
    won = (
        await session.execute(
            update(RedemptionCode)
            .where(RedemptionCode.id == code.id, RedemptionCode.status == CodeStatus.ACTIVE)
            .values(
                status=CodeStatus.REDEEMED,
                redeemed_at=now,
                redeemed_by=actor_user_id,
                redeemed_store_id=store_id,
            )
            .returning(RedemptionCode.id)
        )
    ).one_or_none()
    await session.refresh(code)
    if won is None:
        if code.status == CodeStatus.VOID:
            raise CodeVoid("This code was cancelled with its order.", field="code")
        at = code.redeemed_at.isoformat() if code.redeemed_at else ""
        raise AlreadyRedeemed("This code has already been used.", field="code", redeemed_at=at)
    return code


async def redeem_code(
    session: AsyncSession,
    *,
    text: str,
    merchant_id: int,
    store_id: int,
    actor_user_id: int,
    now: datetime | None = None,
) -> RedemptionCode:
    """Find and redeem what a clerk typed or scanned at ``store_id``: at most once, only at
    the store the code belongs to."""
    found = await find_code(session, text=text, merchant_id=merchant_id, store_id=store_id)
    return await mark_redeemed(
        session, code=found, store_id=store_id, actor_user_id=actor_user_id, now=now
    )
