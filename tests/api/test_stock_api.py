"""The stock API through HTTP: grid, ledger, adjustments, CSV import, POS sync, permissions."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from tests.factories import make_staff, make_store, stock
from tests.inventory.scene import Shop, make_shop, reserve

PROBLEM = "application/problem+json"


async def owner_shop(session: AsyncSession) -> tuple[Shop, dict[str, str]]:
    shop = await make_shop(session, sizes=("S", "M", "L"))
    _u, headers = await make_staff(session, merchant=shop.merchant, role=MemberRole.OWNER)
    await session.commit()
    return shop, headers


def sale_body(sale_id: str, *lines: dict[str, Any]) -> dict[str, Any]:
    return {"sale_id": sale_id, "occurred_at": "2026-05-01T10:30:00+08:00", "lines": list(lines)}


async def grid(client: httpx.AsyncClient, shop: Shop, headers: dict[str, str]) -> dict[int, int]:
    r = await client.get(f"/api/v1/stores/{shop.store.id}/stock?limit=100", headers=headers)
    assert r.status_code == 200, r.text
    return {row["variant_id"]: row["on_hand"] for row in r.json()["items"]}


async def test_set_on_hand_returns_the_level_records_it_and_publishes_it(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    shop, owner = await owner_shop(session)
    v = shop.variants[0]
    url = f"/api/v1/stores/{shop.store.id}/stock/{v.id}"
    async with app.state.broker.subscribe(f"stock:variant:{v.id}") as messages:
        r = await client.put(url, json={"on_hand": 7, "note": "count"}, headers=owner)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "store_id": shop.store.id,
            "variant_id": v.id,
            "on_hand": 7,
            "reserved": 0,
            "available": 7,
        }
        message = await asyncio.wait_for(anext(messages), 1)
    assert message == {"store_id": shop.store.id, "variant_id": v.id, "available": 7, "on_hand": 7}
    await client.put(url, json={"on_hand": 4}, headers=owner)

    r = await client.get(f"{url}/movements?limit=1", headers=owner)
    assert r.status_code == 200
    page = r.json()
    assert [(m["kind"], m["qty_delta"], m["on_hand_after"]) for m in page["items"]] == [
        ("adjustment", -3, 4)
    ]
    r = await client.get(f"{url}/movements?limit=1&cursor={page['next_cursor']}", headers=owner)
    assert [(m["qty_delta"], m["note"]) for m in r.json()["items"]] == [(7, "count")]
    assert r.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("{store}/stock/{variant}", {"on_hand": -1}, 422, "validation_error"),
        ("{store}/stock/{variant}", {"on_hand": "many"}, 422, "validation_error"),
        ("{store}/stock/{variant}", {"on_hand": 10**9}, 422, "validation_error"),
        ("{store}/stock/{variant}", {}, 422, "validation_error"),
        ("{store}/stock/999999999", {"on_hand": 1}, 404, "variant_not_found"),
        ("999999999/stock/{variant}", {"on_hand": 1}, 404, "store_not_found"),
        ("{store}/stock/{reserved}", {"on_hand": 1}, 409, "below_reserved"),
    ],
)
async def test_bad_adjustments_get_a_problem_with_a_code(
    client: httpx.AsyncClient,
    session: AsyncSession,
    path: str,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    shop, owner = await owner_shop(session)
    a, b, _c = shop.variants
    await stock(session, store=shop.store, variant_id=b.id, qty=3)
    await reserve(session, store=shop.store, variant_id=b.id, qty=2)
    await session.commit()
    url = "/api/v1/stores/" + path.format(store=shop.store.id, variant=a.id, reserved=b.id)
    r = await client.put(url, json=body, headers=owner)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == code
    assert r.json()["field"]


async def test_the_grid_lists_every_variant_searches_and_pages(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    shop, owner = await owner_shop(session)
    a, b, c = shop.variants
    await stock(session, store=shop.store, variant_id=b.id, qty=5)
    await session.commit()
    base = f"/api/v1/stores/{shop.store.id}/stock"

    r = await client.get(f"{base}?limit=2", headers=owner)
    first = r.json()
    assert [(x["variant_id"], x["on_hand"], x["available"]) for x in first["items"]] == [
        (a.id, 0, 0),
        (b.id, 5, 5),
    ]
    assert {"sku", "barcode", "title", "title_zh", "attributes", "reserved"} <= set(
        first["items"][0]
    )
    r = await client.get(f"{base}?limit=2&cursor={first['next_cursor']}", headers=owner)
    assert [x["variant_id"] for x in r.json()["items"]] == [c.id]
    assert r.json()["next_cursor"] is None

    r = await client.get(base, params={"q": c.sku.lower()}, headers=owner)
    assert [x["variant_id"] for x in r.json()["items"]] == [c.id]
    r = await client.get(base, params={"q": "夹克"}, headers=owner)
    assert len(r.json()["items"]) == 3
    r = await client.get(base, params={"q": "%"}, headers=owner)
    assert r.json()["items"] == []
    r = await client.get(f"{base}?cursor=not-a-cursor", headers=owner)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_cursor"


def csv_file(shop: Shop) -> str:
    a, b, _c = shop.variants
    return f"sku,on_hand,note\n{a.sku},9,ok\nNOPE,1,\n{b.sku},x,\n"


EXPECTED = [(3, "sku", "unknown_sku"), (4, "on_hand", "not_an_integer")]


async def test_csv_import_is_all_or_nothing_unless_partial(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    shop, owner = await owner_shop(session)
    a = shop.variants[0]
    url = f"/api/v1/stores/{shop.store.id}/stock/import"
    data = csv_file(shop).encode()

    r = await client.post(url, files={"file": ("stock.csv", data, "text/csv")}, headers=owner)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "import_rejected"
    assert [(e["row"], e["column"], e["code"]) for e in r.json()["errors"]] == EXPECTED
    assert (await grid(client, shop, owner))[a.id] == 0

    r = await client.post(
        url, files={"file": ("stock.csv", data)}, data={"apply": "partial"}, headers=owner
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["rows"], report["applied"], report["unchanged"], report["rejected"]) == (
        3,
        1,
        0,
        2,
    )
    assert [(e["row"], e["column"], e["code"]) for e in report["errors"]] == EXPECTED
    assert (await grid(client, shop, owner))[a.id] == 9

    r = await client.post(
        f"{url}?apply=partial",
        content=data,
        headers={**owner, "Content-Type": "text/csv; charset=utf-8"},
    )
    assert r.status_code == 200
    assert (r.json()["applied"], r.json()["unchanged"]) == (0, 1)


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"json": {"sku": "x"}}, 415, "unsupported_media_type"),
        ({"files": {"other": ("a.csv", b"sku,on_hand\n")}}, 422, "import_unreadable"),
        ({"content": b"", "headers": {"Content-Type": "text/csv"}}, 422, "import_unreadable"),
        (
            {"content": b"x" * (5 * 1024 * 1024 + 1), "headers": {"Content-Type": "text/csv"}},
            413,
            "import_too_large",
        ),
        ({"params": {"apply": "some"}, "content": b"", "headers": {}}, 422, "validation_error"),
    ],
)
async def test_bad_uploads_get_a_problem(
    client: httpx.AsyncClient,
    session: AsyncSession,
    kwargs: dict[str, Any],
    status: int,
    code: str,
) -> None:
    _shop, owner = await owner_shop(session)
    kwargs = {**kwargs, "headers": {**owner, **kwargs.get("headers", {})}}
    r = await client.post(f"/api/v1/stores/{_shop.store.id}/stock/import", **kwargs)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code


async def test_pos_sale_retried_with_the_same_key_replays_the_first_response(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    shop, owner = await owner_shop(session)
    a, b, _c = shop.variants
    await stock(session, store=shop.store, variant_id=a.id, qty=5)
    await session.commit()
    url = f"/api/v1/stores/{shop.store.id}/pos-sales"
    body = sale_body("R1-17", {"barcode": a.barcode, "qty": 2}, {"sku": b.sku, "qty": 1})
    key = {"Idempotency-Key": str(uuid.uuid4())}

    async with app.state.broker.subscribe(f"stock:store:{shop.store.id}") as messages:
        first = await client.post(url, json=body, headers={**owner, **key})
        assert first.status_code == 201, first.text
        message = await asyncio.wait_for(anext(messages), 1)
    assert message == {"store_id": shop.store.id, "variant_id": a.id, "available": 3, "on_hand": 3}
    lines = first.json()["lines"]
    assert [(x["applied"], x["shortfall"]) for x in lines] == [(2, 0), (0, 1)]
    assert first.json()["shortfall"] == 1

    again = await client.post(url, json=body, headers={**owner, **key})
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert (await grid(client, shop, owner))[a.id] == 3

    changed = sale_body("R1-17", {"barcode": a.barcode, "qty": 3})
    r = await client.post(url, json=changed, headers={**owner, **key})
    assert r.status_code == 422
    assert r.json()["code"] == "idempotency_key_reused"

    other_key = {"Idempotency-Key": str(uuid.uuid4())}
    r = await client.post(url, json=body, headers={**owner, **other_key})
    assert r.status_code == 200
    assert r.json() == first.json()
    assert (await grid(client, shop, owner))[a.id] == 3

    # The same sale id with other lines under a fresh key: refused, nothing applied.
    r = await client.post(url, json=changed, headers={**owner, "Idempotency-Key": "fresh-1"})
    assert r.status_code == 409
    assert r.json()["code"] == "sale_id_conflict"
    assert (await grid(client, shop, owner))[a.id] == 3


async def test_pos_sale_needs_a_key_and_a_refused_sale_frees_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    shop, owner = await owner_shop(session)
    a = shop.variants[0]
    await stock(session, store=shop.store, variant_id=a.id, qty=5)
    await session.commit()
    url = f"/api/v1/stores/{shop.store.id}/pos-sales"

    r = await client.post(url, json=sale_body("R2-1", {"sku": a.sku, "qty": 1}), headers=owner)
    assert r.status_code == 400
    assert r.json()["code"] == "idempotency_key_required"

    key = {**owner, "Idempotency-Key": "till-2-sale-1"}
    r = await client.post(url, json=sale_body("R2-1", {"sku": "NOPE", "qty": 1}), headers=key)
    assert r.status_code == 422
    assert r.json()["code"] == "unknown_sale_items"
    assert r.json()["errors"][0]["field"] == "lines.0.sku"
    r = await client.post(url, json=sale_body("R2-1", {"sku": a.sku, "qty": 1}), headers=key)
    assert r.status_code == 201, r.text
    assert (await grid(client, shop, owner))[a.id] == 4

    bad = sale_body("R2-2", {"sku": a.sku, "barcode": a.barcode, "qty": 1})
    r = await client.post(url, json=bad, headers={**owner, "Idempotency-Key": "k"})
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"


ENDPOINTS = ["grid", "movements", "put", "import", "pos"]


async def call(
    client: httpx.AsyncClient,
    endpoint: str,
    store_id: int,
    variant_id: int,
    headers: dict[str, str],
) -> httpx.Response:
    base = f"/api/v1/stores/{store_id}"
    if endpoint == "grid":
        return await client.get(f"{base}/stock", headers=headers)
    if endpoint == "movements":
        return await client.get(f"{base}/stock/{variant_id}/movements", headers=headers)
    if endpoint == "put":
        return await client.put(f"{base}/stock/{variant_id}", json={"on_hand": 2}, headers=headers)
    if endpoint == "import":
        return await client.post(
            f"{base}/stock/import",
            content=f"variant_id,delta\n{variant_id},1\n".encode(),
            headers={**headers, "Content-Type": "text/csv"},
        )
    return await client.post(
        f"{base}/pos-sales",
        json=sale_body(uuid.uuid4().hex, {"variant_id": variant_id, "qty": 1}),
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )


async def test_permissions_matrix(client: httpx.AsyncClient, session: AsyncSession) -> None:
    """Every stock endpoint x owner, manager, clerk here / elsewhere, stranger, anonymous."""
    shop = await make_shop(session, sizes=("S",))
    other_store = await make_store(session, merchant=shop.merchant, region=shop.region)
    (v,) = shop.variants
    await stock(session, store=shop.store, variant_id=v.id, qty=50)
    m = shop.merchant
    _1, owner = await make_staff(session, merchant=m, role=MemberRole.OWNER)
    _2, manager = await make_staff(session, merchant=m, role=MemberRole.MANAGER)
    _3, scoped_manager = await make_staff(
        session, merchant=m, role=MemberRole.MANAGER, store_ids=[other_store.id]
    )
    _4, clerk_here = await make_staff(
        session, merchant=m, role=MemberRole.CLERK, store_ids=[shop.store.id]
    )
    _5, clerk_there = await make_staff(
        session, merchant=m, role=MemberRole.CLERK, store_ids=[other_store.id]
    )
    stranger_shop = await make_shop(session, sizes=("S",))
    _6, stranger = await make_staff(session, merchant=stranger_shop.merchant, role=MemberRole.OWNER)
    await session.commit()
    expected = [
        (owner, 200),
        (manager, 200),
        (clerk_here, 200),
        (scoped_manager, 403),
        (clerk_there, 403),
        (stranger, 403),
        ({}, 401),
    ]
    for endpoint in ENDPOINTS:
        for headers, status in expected:
            r = await call(client, endpoint, shop.store.id, v.id, headers)
            got = 200 if r.status_code in (200, 201) else r.status_code
            assert got == status, (endpoint, headers, r.text)
            if status >= 400:
                assert r.headers["content-type"] == PROBLEM
                assert set(r.json()) >= {"code", "title", "detail", "status"}
                assert "items" not in r.json()
                assert "on_hand" not in r.text
