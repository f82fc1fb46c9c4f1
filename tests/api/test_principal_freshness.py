"""Remembered tokens (accounts.principal_cache) never make the API trust what it should not:
changes made in this process apply at once, expiry is exact, and a change made elsewhere
applies within the cache's few seconds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts import service as accounts_service
from o2o.accounts.models import MemberRole, User
from o2o.accounts.principal_cache import PrincipalCache
from o2o.core.clock import utcnow
from tests.factories import make_merchant, make_staff, make_user, token_for


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


async def _me(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.get("/api/v1/me", headers=headers)


def _count_lookups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Calls of the token query (plain SQL on PostgreSQL, the ORM elsewhere)."""
    calls: list[int] = []
    for name in ("_principal_pg", "_principal_orm"):
        real = getattr(accounts_service, name)

        async def counted(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            calls.append(1)
            return await _real(*args, **kwargs)

        monkeypatch.setattr(accounts_service, name, counted)
    return calls


async def test_a_burst_of_requests_looks_the_token_up_once(
    client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = await token_for(session, await make_user(session))
    await session.commit()
    calls = _count_lookups(monkeypatch)
    lookups = []
    for _ in range(3):
        assert (await _me(client, headers)).status_code == 200
        lookups.append(len(calls))
    assert lookups == [1, 1, 1]


async def test_a_removed_membership_applies_at_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    merchant = await make_merchant(session)
    user, headers = await make_staff(session, merchant=merchant, role=MemberRole.MANAGER)
    await session.commit()
    assert [m["merchant_id"] for m in (await _me(client, headers)).json()["memberships"]] == [
        merchant.id
    ]

    await accounts_service.remove_membership(session, user_id=user.id, merchant_id=merchant.id)
    await session.commit()

    assert (await _me(client, headers)).json()["memberships"] == []


async def test_a_deactivated_account_is_refused_at_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    headers = await token_for(session, user)
    await session.commit()
    assert (await _me(client, headers)).status_code == 200

    account = await session.get(User, user.id)
    assert account is not None
    account.is_active = False
    await session.commit()

    assert (await _me(client, headers)).status_code == 401


async def test_an_expired_token_is_refused_though_remembered(
    client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = await token_for(session, await make_user(session))  # valid for one hour
    await session.commit()
    assert (await _me(client, headers)).status_code == 200

    later = utcnow() + timedelta(hours=1, seconds=1)
    monkeypatch.setattr(accounts_service, "utcnow", lambda: later)

    r = await _me(client, headers)
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_token"


async def test_a_revocation_made_elsewhere_applies_within_the_ttl(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clock = Clock()
    app.state.principal_cache = PrincipalCache(5, clock=clock)
    user = await make_user(session)
    headers = await token_for(session, user)
    await session.commit()
    assert (await _me(client, headers)).status_code == 200

    # as another API process would: straight in the database, unseen by this one
    await session.execute(
        text("UPDATE access_tokens SET revoked_at = :at WHERE user_id = :id"),
        {"at": utcnow(), "id": user.id},
    )
    await session.commit()

    clock.t = 4.0
    assert (await _me(client, headers)).status_code == 200  # the documented lag
    clock.t = 5.0
    assert (await _me(client, headers)).status_code == 401


async def test_a_zero_ttl_looks_every_request_up(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.state.principal_cache = PrincipalCache(0)
    headers = await token_for(session, await make_user(session))
    await session.commit()
    calls = _count_lookups(monkeypatch)
    for _ in range(2):
        assert (await _me(client, headers)).status_code == 200
    assert len(calls) == 2
