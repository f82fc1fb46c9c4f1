"""Who may open, edit and move stores; a moved store's stock moves with it in search."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from o2o.catalog import service as catalog_service
from tests.factories import (
    make_merchant,
    make_product,
    make_region,
    make_staff,
    make_store,
    make_user,
    stock,
    token_for,
)


async def test_owner_opens_a_store_and_it_is_found_nearby(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    region = await make_region(session)
    merchant = await make_merchant(session)
    _u, owner = await make_staff(session, merchant=merchant, role=MemberRole.OWNER)
    await session.commit()
    body = {
        "region": region.code,
        "name": "Harbour Branch",
        "name_zh": "港口店",
        "lat": region.center_lat,
        "lng": region.center_lng,
        "opening_hours": [[[540, 1260]]] * 7,
        "fulfilment": {"pickup": True, "delivery": True},
        "delivery_radius_m": 2500,
    }
    r = await client.post(f"/api/v1/merchants/{merchant.id}/stores", json=body, headers=owner)
    assert r.status_code == 201, r.text
    store = r.json()
    assert store["fulfilment"]["delivery"] is True
    assert store["delivery_radius_m"] == 2500
    near = await client.get(
        "/api/v1/stores/nearby", params={"lat": region.center_lat, "lng": region.center_lng}
    )
    assert [s["id"] for s in near.json()["items"]] == [store["id"]]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 200),
        ("manager_here", 200),
        ("manager_elsewhere", 403),
        ("clerk_here", 403),
        ("foreign_owner", 403),
        ("shopper", 403),
        ("admin", 200),
        ("anonymous", 401),
    ],
)
async def test_who_may_edit_a_store(
    client: httpx.AsyncClient, session: AsyncSession, who: str, status: int
) -> None:
    region = await make_region(session)
    merchant = await make_merchant(session)
    store = await make_store(session, merchant=merchant, region=region)
    other_store = await make_store(session, merchant=merchant, region=region)
    headers: dict[str, str] = {}
    if who == "owner":
        _u, headers = await make_staff(session, merchant=merchant, role=MemberRole.OWNER)
    elif who == "manager_here":
        _u, headers = await make_staff(
            session, merchant=merchant, role=MemberRole.MANAGER, store_ids=[store.id]
        )
    elif who == "manager_elsewhere":
        _u, headers = await make_staff(
            session, merchant=merchant, role=MemberRole.MANAGER, store_ids=[other_store.id]
        )
    elif who == "clerk_here":
        _u, headers = await make_staff(
            session, merchant=merchant, role=MemberRole.CLERK, store_ids=[store.id]
        )
    elif who == "foreign_owner":
        _u, headers = await make_staff(
            session, merchant=await make_merchant(session), role=MemberRole.OWNER
        )
    elif who == "shopper":
        headers = await token_for(session, await make_user(session))
    elif who == "admin":
        headers = await token_for(session, await make_user(session, is_platform_admin=True))
    await session.commit()
    r = await client.patch(f"/api/v1/stores/{store.id}", json={"name": "Renamed"}, headers=headers)
    assert r.status_code == status, r.text
    name = (await client.get(f"/api/v1/stores/{store.id}")).json()["name"]
    assert (name == "Renamed") is (status == 200)


async def test_moving_a_store_moves_its_stock_in_search(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    region = await make_region(session)
    merchant = await make_merchant(session)
    store = await make_store(session, merchant=merchant, region=region)
    product = await make_product(session, merchant=merchant)
    variant = (await catalog_service.variants_of(session, product.id))[0]
    await stock(session, store=store, variant_id=variant.id, qty=4)
    _u, owner = await make_staff(session, merchant=merchant, role=MemberRole.OWNER)
    await session.commit()
    params = {
        "lat": region.center_lat,
        "lng": region.center_lng,
        "radius_m": 2000,
        "variant_id": variant.id,
    }
    assert len((await client.get("/api/v1/stores/nearby", params=params)).json()["items"]) == 1
    r = await client.patch(
        f"/api/v1/stores/{store.id}", json={"lat": region.center_lat + 0.1}, headers=owner
    )
    assert r.status_code == 200
    assert (await client.get("/api/v1/stores/nearby", params=params)).json()["items"] == []


async def test_closing_a_store_hides_its_stock_in_search_until_it_reopens(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    region = await make_region(session)
    merchant = await make_merchant(session)
    store = await make_store(session, merchant=merchant, region=region)
    product = await make_product(session, merchant=merchant)
    variants = await catalog_service.variants_of(session, product.id)
    await stock(session, store=store, variant_id=variants[0].id, qty=4)
    _u, owner = await make_staff(session, merchant=merchant, role=MemberRole.OWNER)
    await session.commit()
    where = {"lat": region.center_lat, "lng": region.center_lng, "radius_m": 2000}

    async def found() -> tuple[int, int, int]:
        nearby = await client.get(
            "/api/v1/stores/nearby", params={**where, "variant_id": variants[0].id}
        )
        later = await client.get(
            "/api/v1/stores/nearby", params={**where, "variant_id": variants[1].id}
        )
        availability = await client.get(f"/api/v1/products/{product.id}/availability", params=where)
        return (
            len(nearby.json()["items"]),
            len(later.json()["items"]),
            len(availability.json()["stores"]),
        )

    assert await found() == (1, 0, 1)
    r = await client.patch(f"/api/v1/stores/{store.id}", json={"is_active": False}, headers=owner)
    assert r.status_code == 200
    # Stock opened while the store is closed carries the closed flag too.
    await session.refresh(store)  # closed by the request, in its own session
    await stock(session, store=store, variant_id=variants[1].id, qty=2)
    await session.commit()
    assert await found() == (0, 0, 0)
    r = await client.patch(f"/api/v1/stores/{store.id}", json={"is_active": True}, headers=owner)
    assert r.status_code == 200
    assert await found() == (1, 1, 1)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"opening_hours": [[[540, 1260]]] * 6}, "opening_hours"),
        ({"opening_hours": [[[1300, 1200]]] * 7}, "opening_hours[0]"),
        ({"hours_exceptions": {"someday": []}}, "hours_exceptions"),
        ({"lat": 95}, "lat"),
        ({"delivery_radius_m": -5}, "delivery_radius_m"),
        ({"category": "nope"}, "category"),
    ],
)
async def test_bad_store_edits_are_refused_and_change_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    patch: dict,
    field: str,  # type: ignore[type-arg]
) -> None:
    region = await make_region(session)
    merchant = await make_merchant(session)
    store = await make_store(session, merchant=merchant, region=region)
    _u, owner = await make_staff(session, merchant=merchant, role=MemberRole.OWNER)
    await session.commit()
    before = (await client.get(f"/api/v1/stores/{store.id}")).json()
    r = await client.patch(f"/api/v1/stores/{store.id}", json=patch, headers=owner)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert (await client.get(f"/api/v1/stores/{store.id}")).json() == before
