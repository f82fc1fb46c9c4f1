"""Request-scoped dependencies both edges use: settings, database session, storage, ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.principal_cache import PrincipalCache
from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.core.storage import Storage
from o2o.orders.policy import OrderPolicy
from o2o.payments.service import Providers


# Async although they do no I/O: FastAPI runs a plain ``def`` dependency in a worker thread,
# and the hand-off costs more than the dependency itself, on every request.
async def get_database(request: Request) -> Database:
    db: Database = request.app.state.database
    return db


def storage_of(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def get_storage(request: Request) -> Storage:
    return storage_of(request)


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_settings(request: Request) -> Settings:
    return app_settings(request)


async def get_session(
    db: Annotated[Database, Depends(get_database)],
) -> AsyncIterator[AsyncSession]:
    """One session per request; routes that write call ``commit()`` once, at the end."""
    async with db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

# Ids beyond BIGINT would overflow the database driver: a 4xx, never a 500.
MAX_ID = 2**63 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def principal_cache_of(request: Request) -> PrincipalCache | None:
    """The app's cache of recently seen tokens (None in an app built without one)."""
    cache: PrincipalCache | None = getattr(request.app.state, "principal_cache", None)
    return cache


def policy_of(request: Request) -> OrderPolicy:
    """The platform's order rules (``create_app`` builds them from the settings)."""
    policy: OrderPolicy = request.app.state.order_policy
    return policy


def providers_of(request: Request) -> Providers:
    """The payment providers this platform accepts."""
    providers: Providers = request.app.state.payment_providers
    return providers


def kick_relay(request: Request) -> None:
    """After a commit that emitted events: let the relay look now, not at its next poll."""
    relay = getattr(request.app.state, "relay", None)
    if relay is not None:
        relay.kick()
