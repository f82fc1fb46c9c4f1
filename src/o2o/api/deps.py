"""Typed dependencies shared by the API routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts import service as accounts_service
from o2o.accounts.exceptions import NotAuthenticated
from o2o.accounts.models import TokenKind
from o2o.accounts.principal import Principal
from o2o.accounts.principal_cache import PrincipalCache
from o2o.http.deps import (
    MAX_ID,
    IdPath,
    OptionalIdQuery,
    SessionDep,
    SettingsDep,
    get_database,
    get_session,
    get_settings,
    get_storage,
    principal_cache_of,
)
from o2o.merchants import service as merchants_service
from o2o.merchants.exceptions import StoreNotFound
from o2o.merchants.models import Store

__all__ = [
    "MAX_ID",
    "IdPath",
    "OptionalIdQuery",
    "PrincipalDep",
    "SessionDep",
    "SettingsDep",
    "get_database",
    "get_principal",
    "get_session",
    "get_settings",
    "get_storage",
    "principal_from_header",
    "staff_store",
]


async def get_principal(
    request: Request,
    session: SessionDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    """The caller behind ``Authorization: Bearer <token>``; refused without one."""
    return await principal_from_header(session, authorization, cache=principal_cache_of(request))


async def principal_from_header(
    session: AsyncSession, authorization: str | None, *, cache: PrincipalCache | None = None
) -> Principal:
    """``get_principal`` outside FastAPI's dependencies (a lean route, a WebSocket)."""
    if not authorization:
        raise NotAuthenticated("Send 'Authorization: Bearer <token>' (POST /api/v1/auth/token).")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Use the Bearer scheme: 'Authorization: Bearer <token>'.")
    return await accounts_service.principal_for_token(
        session, token=token.strip(), kind=TokenKind.API, cache=cache
    )


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def staff_store(session: AsyncSession, principal: Principal, store_id: int) -> Store:
    """The store, if the caller works there: 404 for no such store, 403 for someone else's."""
    try:
        store = await merchants_service.get_store(session, store_id=store_id)
    except StoreNotFound as exc:
        exc.field = exc.field or "store_id"
        raise
    principal.require_store(store.merchant_id, store.id)
    return store
