"""Typed dependencies shared by the API routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts import service as accounts_service
from o2o.accounts.exceptions import NotAuthenticated
from o2o.accounts.models import TokenKind
from o2o.accounts.principal import Principal
from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.core.storage import Storage


def get_database(request: Request) -> Database:
    db: Database = request.app.state.database
    return db


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(
    db: Annotated[Database, Depends(get_database)],
) -> AsyncIterator[AsyncSession]:
    """One session per request; routes that write call ``commit()`` once, at the end."""
    async with db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


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

MAX_ID = 2**63 - 1
# Ids beyond BIGINT would overflow the database driver; they are a client error, not a 500.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
