"""Accounts: register, authenticate, tokens and sessions, memberships."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.exceptions import InvalidCredentials, InvalidToken, LoginTaken, WeakPassword
from o2o.accounts.models import AccessToken, MemberRole, Membership, TokenKind, User
from o2o.accounts.passwords import hash_password, verify_password
from o2o.accounts.principal import Grant, Principal
from o2o.core import rawpg
from o2o.core.clock import utcnow

TOKEN_PREFIX = {TokenKind.API: "o2o_", TokenKind.SESSION: "o2s_"}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_password(password: str, email: str) -> None:
    if len(password) < 8:
        raise WeakPassword("Use at least 8 characters.", field="password")
    if password.lower() in email.lower() or len(set(password)) < 4:
        raise WeakPassword(
            "This password is too easy to guess; mix more different characters.", field="password"
        )


async def register(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    display_name: str,
    phone: str | None = None,
    locale: str = "en",
    is_platform_admin: bool = False,
    is_courier: bool = False,
) -> User:
    """Create a shopper account (every user can shop); the email is the login."""
    email = email.strip().lower()
    _check_password(password, email)
    same_login = [User.email == email] + ([User.phone == phone] if phone else [])
    taken = await session.scalar(select(User.id).where(or_(*same_login)))
    if taken is not None:
        raise LoginTaken(
            "An account with this email or phone exists; log in instead.", field="email"
        )
    user = User(
        email=email,
        phone=phone,
        display_name=display_name,
        password_hash=hash_password(password),
        locale=locale,
        is_platform_admin=is_platform_admin,
        is_courier=is_courier,
    )
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        raise LoginTaken("An account with this email or phone exists.", field="email") from exc
    return user


async def authenticate(session: AsyncSession, *, login: str, password: str) -> User:
    """The user whose email or phone and password match; one error for every failure."""
    login = login.strip()
    user = await session.scalar(
        select(User).where(or_(User.email == login.lower(), User.phone == login))
    )
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        raise InvalidCredentials("The login or password is wrong.")
    return user


async def issue_token(
    session: AsyncSession, *, user_id: int, kind: TokenKind, ttl: timedelta
) -> tuple[str, datetime]:
    """A new opaque token; only its digest is stored, so the plain token is shown once."""
    token = TOKEN_PREFIX[kind] + secrets.token_urlsafe(32)
    expires_at = utcnow() + ttl
    session.add(
        AccessToken(user_id=user_id, kind=kind, token_hash=_digest(token), expires_at=expires_at)
    )
    await session.flush()
    return token, expires_at


async def revoke_token(session: AsyncSession, *, token: str) -> None:
    await session.execute(
        update(AccessToken)
        .where(AccessToken.token_hash == _digest(token), AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def principal_for_token(session: AsyncSession, *, token: str, kind: TokenKind) -> Principal:
    """Who holds this token; expired, revoked or unknown tokens are refused alike. One round
    trip: the user and their memberships together (every API request pays for this)."""
    if rawpg.is_postgresql(session):
        return await _principal_pg(session, token=token, kind=kind)
    rows = (
        await session.execute(
            select(User, Membership)
            .join(AccessToken, AccessToken.user_id == User.id)
            .outerjoin(Membership, Membership.user_id == User.id)
            .where(
                AccessToken.token_hash == _digest(token),
                AccessToken.kind == kind,
                AccessToken.revoked_at.is_(None),
                AccessToken.expires_at > utcnow(),
                User.is_active.is_(True),
            )
            .order_by(Membership.merchant_id)
        )
    ).all()
    if not rows:
        raise InvalidToken("The token is unknown, expired or revoked; log in again.")
    return _principal(rows[0][0], [m for _, m in rows if m is not None])


_PRINCIPAL_SQL = (
    "SELECT u.id, u.email, u.display_name, u.is_platform_admin, u.is_courier,"
    " m.merchant_id, m.role, m.store_ids"
    " FROM access_tokens t JOIN users u ON u.id = t.user_id"
    " LEFT JOIN memberships m ON m.user_id = u.id"
    " WHERE t.token_hash = $1 AND t.kind = $2 AND t.revoked_at IS NULL"
    " AND t.expires_at > $3 AND u.is_active"
    " ORDER BY m.merchant_id"
)


async def _principal_pg(session: AsyncSession, *, token: str, kind: TokenKind) -> Principal:
    """``principal_for_token``'s query in plain SQL (``core.rawpg``): the same rows, without
    the ORM's per-statement work on the path every request takes. A read on its own: it
    needs no ``BEGIN`` (who holds a token is not part of what the request then changes)."""
    driver = await rawpg.statement_driver(session)
    rows = await driver.fetch(_PRINCIPAL_SQL, _digest(token), kind.value, utcnow())
    if not rows:
        raise InvalidToken("The token is unknown, expired or revoked; log in again.")
    user = rows[0]
    return Principal(
        user_id=user["id"],
        email=user["email"],
        display_name=user["display_name"],
        is_platform_admin=user["is_platform_admin"],
        is_courier=user["is_courier"],
        grants=tuple(
            Grant(r["merchant_id"], MemberRole(r["role"]), frozenset(r["store_ids"] or ()))
            for r in rows
            if r["merchant_id"] is not None
        ),
    )


def _principal(user: User, memberships: list[Membership]) -> Principal:
    return Principal(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        is_platform_admin=user.is_platform_admin,
        is_courier=user.is_courier,
        grants=tuple(
            Grant(m.merchant_id, MemberRole(m.role), frozenset(m.store_ids or ()))
            for m in memberships
        ),
    )


async def principal_for_user(session: AsyncSession, *, user: User) -> Principal:
    memberships = await session.scalars(
        select(Membership).where(Membership.user_id == user.id).order_by(Membership.merchant_id)
    )
    return _principal(user, list(memberships))


async def add_membership(
    session: AsyncSession,
    *,
    user_id: int,
    merchant_id: int,
    role: MemberRole,
    store_ids: list[int] | None = None,
) -> Membership:
    membership = Membership(
        user_id=user_id, merchant_id=merchant_id, role=role, store_ids=sorted(store_ids or [])
    )
    session.add(membership)
    await session.flush()
    return membership


async def get_user(session: AsyncSession, *, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def count_users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(User.id))) or 0)


async def get_user_by_email(session: AsyncSession, *, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.strip().lower()))


async def set_membership(
    session: AsyncSession,
    *,
    user_id: int,
    merchant_id: int,
    role: MemberRole,
    store_ids: list[int],
) -> Membership:
    """Give a user a role at a merchant, or change the role they have (one per merchant)."""
    membership = await session.scalar(
        select(Membership).where(
            Membership.user_id == user_id, Membership.merchant_id == merchant_id
        )
    )
    if membership is None:
        return await add_membership(
            session, user_id=user_id, merchant_id=merchant_id, role=role, store_ids=store_ids
        )
    membership.role = role
    membership.store_ids = sorted(store_ids)
    await session.flush()
    return membership


async def remove_membership(session: AsyncSession, *, user_id: int, merchant_id: int) -> bool:
    membership = await session.scalar(
        select(Membership).where(
            Membership.user_id == user_id, Membership.merchant_id == merchant_id
        )
    )
    if membership is None:
        return False
    await session.delete(membership)
    await session.flush()
    return True


async def list_members(session: AsyncSession, *, merchant_id: int) -> list[tuple[User, Membership]]:
    rows = await session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.merchant_id == merchant_id)
        .order_by(User.id)
    )
    return [(u, m) for u, m in rows.all()]
