"""Register, log in, tokens, /me, and who may touch which merchant."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from tests.factories import make_merchant, make_staff, make_user


async def test_register_then_log_in_then_me(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/auth/register",
        json={"email": "Amy@Example.test", "password": "lantern-42-river", "display_name": "Amy"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "amy@example.test"
    assert r.json()["roles"] == ["shopper"]
    r = await client.post(
        "/api/v1/auth/token", json={"login": "amy@example.test", "password": "lantern-42-river"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["display_name"] == "Amy"
    assert me.json()["memberships"] == []


async def test_duplicate_registration_is_a_conflict(client: httpx.AsyncClient) -> None:
    data = {"email": "bo@example.test", "password": "lantern-42-river", "display_name": "Bo"}
    assert (await client.post("/api/v1/auth/register", json=data)).status_code == 201
    r = await client.post("/api/v1/auth/register", json=data)
    assert r.status_code == 409
    assert r.json()["code"] == "login_taken"


async def test_wrong_password_and_unknown_login_look_the_same(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    await session.commit()
    wrong = await client.post(
        "/api/v1/auth/token", json={"login": user.email, "password": "nope-nope"}
    )
    unknown = await client.post(
        "/api/v1/auth/token", json={"login": "x@y.zz", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid_credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_me_lists_memberships_and_roles(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    merchant = await make_merchant(session)
    _user, headers = await make_staff(
        session, merchant=merchant, role=MemberRole.CLERK, store_ids=[5, 3]
    )
    await session.commit()
    body = (await client.get("/api/v1/me", headers=headers)).json()
    assert body["roles"] == ["shopper", "clerk"]
    assert body["memberships"] == [
        {"merchant_id": merchant.id, "role": "clerk", "store_ids": [3, 5]}
    ]


async def test_bad_tokens_are_refused(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        r = await client.get("/api/v1/me", headers=headers)
        assert r.status_code == 401
        assert r.json()["code"] in {"not_authenticated", "invalid_token"}


async def test_register_validates_input(client: httpx.AsyncClient) -> None:
    cases = [
        ({"email": "not-an-email", "password": "lantern-42-river", "display_name": "A"}, "email"),
        ({"email": "a@b.cd", "password": "short", "display_name": "A"}, "password"),
        ({"email": "a@b.cd", "password": "aaaaaaaaaa", "display_name": "A"}, "password"),
        ({"email": "a@b.cd", "password": "lantern-42-river"}, "display_name"),
    ]
    for body, field in cases:
        r = await client.post("/api/v1/auth/register", json=body)
        assert r.status_code == 422, body
        assert r.json()["field"] == field
