"""Regions and merchants are onboarded by admins; owners manage their staff."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from tests.factories import make_merchant, make_region, make_staff, make_store, make_user, token_for

REGION = {
    "code": "hangzhou",
    "name": "Hangzhou",
    "name_zh": "杭州",
    "timezone": "Asia/Shanghai",
    "center": {"lat": 30.27, "lng": 120.15},
    "bounds": {"min_lat": 29.9, "min_lng": 119.8, "max_lat": 30.6, "max_lng": 120.6},
}


async def test_only_admins_open_regions(client: httpx.AsyncClient, session: AsyncSession) -> None:
    admin = await token_for(session, await make_user(session, is_platform_admin=True))
    shopper = await token_for(session, await make_user(session))
    await session.commit()
    assert (await client.post("/api/v1/regions", json=REGION, headers=shopper)).status_code == 403
    r = await client.post("/api/v1/regions", json=REGION, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["name_zh"] == "杭州"
    again = await client.post("/api/v1/regions", json=REGION, headers=admin)
    assert again.status_code == 409
    bad = {**REGION, "code": "x-city", "timezone": "Mars/Olympus"}
    r = await client.post("/api/v1/regions", json=bad, headers=admin)
    assert r.status_code == 422
    assert r.json()["field"] == "timezone"
    outside = {**REGION, "code": "y-city", "center": {"lat": 10.0, "lng": 10.0}}
    assert (await client.post("/api/v1/regions", json=outside, headers=admin)).json()[
        "field"
    ] == "center"


async def test_a_user_applies_as_merchant_and_an_admin_approves(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    applicant = await token_for(session, await make_user(session))
    admin = await token_for(session, await make_user(session, is_platform_admin=True))
    await session.commit()
    r = await client.post(
        "/api/v1/merchants", json={"name": "Tea Corner", "name_zh": "茶角"}, headers=applicant
    )
    assert r.status_code == 201
    merchant = r.json()
    assert merchant["status"] == "pending"
    me = (await client.get("/api/v1/me", headers=applicant)).json()
    assert me["memberships"] == [{"merchant_id": merchant["id"], "role": "owner", "store_ids": []}]
    r = await client.put(
        f"/api/v1/merchants/{merchant['id']}/status", json={"status": "approved"}, headers=applicant
    )
    assert r.status_code == 403
    r = await client.put(
        f"/api/v1/merchants/{merchant['id']}/status", json={"status": "approved"}, headers=admin
    )
    assert r.json()["status"] == "approved"


async def test_owner_adds_a_store_scoped_clerk(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    region = await make_region(session)
    merchant = await make_merchant(session)
    store = await make_store(session, merchant=merchant, region=region)
    foreign_store = await make_store(session, merchant=await make_merchant(session), region=region)
    _o, owner = await make_staff(session, merchant=merchant, role=MemberRole.OWNER)
    _m, manager = await make_staff(session, merchant=merchant, role=MemberRole.MANAGER)
    clerk = await make_user(session, email="clerk@example.test")
    await session.commit()
    body = {"email": "clerk@example.test", "role": "clerk", "store_ids": [store.id]}
    path = f"/api/v1/merchants/{merchant.id}/members"
    assert (await client.put(path, json=body, headers=manager)).status_code == 403
    r = await client.put(path, json=body, headers=owner)
    assert r.status_code == 200, r.text
    assert r.json()["store_ids"] == [store.id]
    members = (await client.get(path, headers=manager)).json()
    assert {m["user_id"] for m in members} >= {clerk.id}
    r = await client.put(path, json={**body, "store_ids": [foreign_store.id]}, headers=owner)
    assert r.status_code == 422
    assert r.json()["field"] == "store_ids"
    r = await client.put(path, json={**body, "email": "nobody@example.test"}, headers=owner)
    assert r.status_code == 404
