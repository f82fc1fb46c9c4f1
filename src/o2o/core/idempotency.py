"""Idempotency keys: a retried request gets the first outcome instead of a second effect.

The protocol, for an entry point that owns the transaction:

1. ``claim()`` in a short transaction of its own, committed at once: insert the record as
   in flight (the unique ``(scope, key)`` constraint decides who is first), or find the
   stored outcome to replay, or learn that the first request is still running.
2. Run the use case; ``complete()`` stores the response in the *same* transaction as the
   effect, so the effect and its stored response commit together or not at all.
3. On a client error (4xx) roll back and ``release()`` the record (and commit), so a
   corrected retry executes afresh.

A record left in flight by a crashed request becomes stale after ``STALE_AFTER`` and is
taken over by the next attempt; so is an expired one. ``locked_at`` is a fencing token:
``complete()`` only succeeds while the record still carries the claimant's ``locked_at``,
so a slow first request that was taken over cannot commit its effect as well.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.errors import Conflict, DomainError, InvalidInput
from o2o.core.idempotency_models import IdempotencyRecord

log = logging.getLogger("o2o.idempotency")
TTL = timedelta(hours=24)
STALE_AFTER = timedelta(seconds=60)
MAX_KEY_LENGTH = 255
_ATTEMPTS = 5


class IdempotencyKeyRequired(DomainError):
    code = "idempotency_key_required"
    status = 400
    title = "Idempotency-Key header required"


class InvalidIdempotencyKey(InvalidInput):
    code = "invalid_idempotency_key"


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"
    title = "Idempotency key reused with a different request"


class IdempotencyInFlight(Conflict):
    code = "idempotency_in_flight"
    title = "A request with this idempotency key is still being processed"


class IdempotencyClaimLost(Conflict):
    code = "idempotency_in_flight"
    title = "This request was taken over by a retry with the same idempotency key"


@dataclass(frozen=True)
class Claim:
    """This request owns the key; ``locked_at`` fences out anyone who takes it over later."""

    record_id: int
    locked_at: datetime


@dataclass(frozen=True)
class Replay:
    """The stored outcome of the first request with this key."""

    status: int
    body: Any


def canonical_json(body: Any) -> str:
    """One spelling per JSON value: sorted keys, no insignificant whitespace."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_hash(method: str, path: str, body: Any) -> str:
    """sha256 of method, path and canonical body: what "the same request" means."""
    text = f"{method.upper()}\n{path}\n{canonical_json(body)}"
    return hashlib.sha256(text.encode()).hexdigest()


def scope_for(*, user_id: int | None, route: str) -> str:
    """Keys are the caller's own: two callers may pick the same key for different things."""
    return f"user:{user_id if user_id is not None else '-'}|{route}"[:200]


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise IdempotencyKeyRequired(
            "Send an 'Idempotency-Key' header (e.g. a UUID) so a retry cannot apply twice.",
            field="Idempotency-Key",
        )
    key = key.strip()
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidIdempotencyKey(
            f"The Idempotency-Key must be at most {MAX_KEY_LENGTH} printable characters.",
            field="Idempotency-Key",
        )
    return key


async def _insert_if_absent(session: AsyncSession, values: dict[str, Any]) -> int | None:
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return await session.scalar(
        insert(IdempotencyRecord)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(IdempotencyRecord.id)
    )


async def claim(
    session: AsyncSession,
    *,
    scope: str,
    key: str,
    request_hash: str,
    now: datetime | None = None,
    ttl: timedelta = TTL,
    stale_after: timedelta = STALE_AFTER,
) -> Claim | Replay:
    """Own the key, or get the first outcome. The caller commits right after this returns.

    Raises ``IdempotencyKeyReused`` for a different request under a live key and
    ``IdempotencyInFlight`` while the first request is still running.
    """
    for _ in range(_ATTEMPTS):
        at = now or utcnow()
        fresh = {
            "request_hash": request_hash,
            "response_status": None,
            "response_body": None,
            "locked_at": at,
            "created_at": at,
            "expires_at": at + ttl,
        }
        record_id = await _insert_if_absent(session, {"scope": scope, "key": key, **fresh})
        if record_id is not None:
            return Claim(record_id, at)
        record = await session.scalar(
            select(IdempotencyRecord)
            .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
            .execution_options(populate_existing=True)
        )
        if record is None:  # released between our insert and our read: try again
            continue
        live = record.expires_at > at
        if live and record.request_hash != request_hash:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used for a different request; use a new key.",
                field="Idempotency-Key",
            )
        if live and record.response_status is not None:
            return Replay(record.response_status, record.response_body)
        if live and record.locked_at > at - stale_after:
            raise IdempotencyInFlight(
                "The first request with this Idempotency-Key is still running; retry shortly.",
                field="Idempotency-Key",
            )
        # Expired, or abandoned in flight: take it over, unless someone else just did.
        taken = await session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.id == record.id,
                IdempotencyRecord.locked_at == record.locked_at,
                or_(
                    IdempotencyRecord.expires_at <= at,
                    and_(
                        IdempotencyRecord.response_status.is_(None),
                        IdempotencyRecord.locked_at <= at - stale_after,
                    ),
                ),
            )
            .values(**fresh)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
            return Claim(record.id, at)
    raise IdempotencyInFlight(
        "Requests with this Idempotency-Key are racing; retry shortly.", field="Idempotency-Key"
    )


async def complete(session: AsyncSession, claim: Claim, *, status: int, body: Any) -> None:
    """Store the response in the use case's transaction; refused if the claim was taken over."""
    stored = await session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.id == claim.record_id,
            IdempotencyRecord.locked_at == claim.locked_at,
            IdempotencyRecord.response_status.is_(None),
        )
        .values(response_status=status, response_body=body)
        .execution_options(synchronize_session=False)
    )
    if stored.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
        raise IdempotencyClaimLost(
            "This request took too long and a retry with the same key took over; "
            "its outcome is the one that counts.",
            field="Idempotency-Key",
        )


async def release(session: AsyncSession, claim: Claim) -> None:
    """Forget an in-flight claim (the use case failed and changed nothing)."""
    await session.execute(
        delete(IdempotencyRecord)
        .where(
            IdempotencyRecord.id == claim.record_id,
            IdempotencyRecord.locked_at == claim.locked_at,
            IdempotencyRecord.response_status.is_(None),
        )
        .execution_options(synchronize_session=False)
    )


async def purge_expired(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Delete records past their expiry (a periodic job); returns how many went."""
    result = await session.execute(
        delete(IdempotencyRecord)
        .where(IdempotencyRecord.expires_at <= (now or utcnow()))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of a DELETE


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool


async def run_once(
    session: AsyncSession,
    *,
    scope: str,
    key: str,
    request_hash: str,
    action: Callable[[], Awaitable[tuple[int, Any]]],
) -> Outcome:
    """The whole protocol for an entry point that owns the transaction: claim the key (its
    own commit, with whatever was read before), run ``action`` (flushes, never commits),
    store its ``(status, body)`` and commit both together. A repeat gets the stored outcome.
    Any failure rolls back and frees the key (nothing was committed): a corrected request
    (after a 4xx) or a retry (after a 5xx such as ``provider_unavailable``) runs afresh at
    once. Only a claim taken over by a retry is left alone: that retry owns the key now."""
    outcome = await claim(session, scope=scope, key=key, request_hash=request_hash)
    await session.commit()
    if isinstance(outcome, Replay):
        return Outcome(outcome.status, outcome.body, replayed=True)
    try:
        status, body = await action()
        await complete(session, outcome, status=status, body=body)
    except DomainError as exc:
        await session.rollback()
        if not isinstance(exc, IdempotencyClaimLost):
            await _release_quietly(session, outcome)
        raise
    except Exception:
        await session.rollback()
        await _release_quietly(session, outcome)
        raise
    # If this commit fails the effect did not happen and the record stays in flight until
    # it is stale; a retry then executes afresh.
    await session.commit()
    return Outcome(status, body, replayed=False)


async def _release_quietly(session: AsyncSession, held: Claim) -> None:
    try:
        await release(session, held)
        await session.commit()
    except Exception:  # the record will go stale and be taken over instead
        log.exception("could not release idempotency record %s", held.record_id)
        await session.rollback()
