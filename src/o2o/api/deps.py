"""Typed dependencies shared by the API routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from o2o.accounts import service as accounts_service
from o2o.accounts.exceptions import NotAuthenticated
from o2o.accounts.models import TokenKind
from o2o.accounts.principal import Principal
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
)

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
]


async def get_principal(
    session: SessionDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    """The caller behind ``Authorization: Bearer <token>``; refused without one."""
    if not authorization:
        raise NotAuthenticated("Send 'Authorization: Bearer <token>' (POST /api/v1/auth/token).")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Use the Bearer scheme: 'Authorization: Bearer <token>'.")
    return await accounts_service.principal_for_token(
        session, token=token.strip(), kind=TokenKind.API
    )


PrincipalDep = Annotated[Principal, Depends(get_principal)]
