"""Products, variants, search, availability, labels and photos through HTTP."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from tests.factories import make_merchant, make_product, make_region, make_staff, make_store, stock

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_owner_creates_a_product_and_anyone_reads_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    merchant = await make_merchant(session)
    _u, headers = await make_staff(session, merchant=merchant, role=MemberRole.OWNER)
    await session.commit()
    body = {
        "title": "Down Jacket",
        "title_zh": "轻型羽绒服",
        "variants": [
            {
                "sku": "DJ-NV-M",
                "barcode": "6900000000017",
                "attributes": {"size": "M", "color": "Navy"},
                "price": 49900,
            },
            {
                "sku": "DJ-NV-L",
                "barcode": "6900000000024",
                "attributes": {"size": "L", "color": "Navy"},
                "price": 49900,
            },
        ],
    }
    r = await client.post(f"/api/v1/merchants/{merchant.id}/products", json=body, headers=headers)
    assert r.status_code == 201, r.text
    product = r.json()
    r = await client.get(f"/api/v1/products/{product['id']}")
    assert r.status_code == 200
    got = r.json()
    assert got["attribute_options"] == {"size": ["M", "L"], "color": ["Navy"]}
    assert {"id", "sku", "barcode", "attributes", "price"} <= set(got["variants"][0])
    assert got["price_min"] == got["price_max"] == 49900
    r = await client.get("/api/v1/variants/by-code/6900000000024")
    assert r.status_code == 200
    assert r.json()["sku"] == "DJ-NV-L"
    assert r.json()["product"]["id"] == product["id"]


async def test_clerks_and_strangers_cannot_edit_the_catalog(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    merchant = await make_merchant(session)
    other = await make_merchant(session)
    product = await make_product(session, merchant=merchant)
    _c, clerk = await make_staff(session, merchant=merchant, role=MemberRole.CLERK)
    _o, foreign_owner = await make_staff(session, merchant=other, role=MemberRole.OWNER)
    await session.commit()
    for headers in (clerk, foreign_owner):
        r = await client.patch(
            f"/api/v1/products/{product.id}", json={"title": "X"}, headers=headers
        )
        assert r.status_code == 403
        assert r.json()["code"] == "not_allowed"
    r = await client.patch(f"/api/v1/products/{product.id}", json={"title": "X"})
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("query", "found"),
    [("jacket", True), ("夹克", True), ("羽绒 夹克", False), ("navy", True), ("bicycle", False)],
)
async def test_search_in_chinese_and_english(
    client: httpx.AsyncClient, session: AsyncSession, query: str, found: bool
) -> None:
    merchant = await make_merchant(session)
    product = await make_product(
        session, merchant=merchant, title="Field Jacket", title_zh="男士工装夹克"
    )
    await session.commit()
    r = await client.get("/api/v1/products", params={"q": query, "merchant_id": merchant.id})
    assert r.status_code == 200
    ids = [p["id"] for p in r.json()["items"]]
    assert (product.id in ids) is found


async def test_chinese_query_words_need_not_be_adjacent(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    merchant = await make_merchant(session)
    product = await make_product(
        session, merchant=merchant, title="Men's work jacket", title_zh="夹克 男士 工装"
    )
    await session.commit()
    r = await client.get("/api/v1/products", params={"q": "男士夹克", "merchant_id": merchant.id})
    assert [p["id"] for p in r.json()["items"]] == [product.id]


async def test_availability_lists_every_variant_at_nearby_stores(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    region = await make_region(session)
    merchant = await make_merchant(session)
    near = await make_store(
        session, merchant=merchant, region=region, lat=region.center_lat + 0.001
    )
    far = await make_store(session, merchant=merchant, region=region, lat=region.center_lat + 0.02)
    beyond = await make_store(
        session, merchant=merchant, region=region, lat=region.center_lat + 0.5
    )
    product = await make_product(session, merchant=merchant)
    s, m, lg = [v.id for v in await _variants(session, product.id)]
    await stock(session, store=near, variant_id=m, qty=3)
    await stock(session, store=far, variant_id=s, qty=1)
    await stock(session, store=far, variant_id=lg, qty=2)
    await stock(session, store=beyond, variant_id=m, qty=9)
    await session.commit()
    r = await client.get(
        f"/api/v1/products/{product.id}/availability",
        params={"lat": region.center_lat, "lng": region.center_lng, "radius_m": 5000},
    )
    assert r.status_code == 200, r.text
    stores = r.json()["stores"]
    assert [x["store"]["id"] for x in stores] == [near.id, far.id]
    assert stores[0]["stock"] == [
        {"variant_id": s, "available": 0},
        {"variant_id": m, "available": 3},
        {"variant_id": lg, "available": 0},
    ]
    assert stores[1]["stock"][2] == {"variant_id": lg, "available": 2}
    # The same through nearby search with a variant filter and a minimum quantity.
    r = await client.get(
        "/api/v1/stores/nearby",
        params={
            "lat": region.center_lat,
            "lng": region.center_lng,
            "radius_m": 5000,
            "variant_id": lg,
            "min_qty": 2,
        },
    )
    assert [(x["id"], x["available_qty"]) for x in r.json()["items"]] == [(far.id, 2)]
    r = await client.get("/api/v1/products", params={"store_id": far.id})
    assert [p["id"] for p in r.json()["items"]] == [product.id]


async def _variants(session: AsyncSession, product_id: int):  # type: ignore[no-untyped-def]
    from o2o.catalog import service as catalog_service

    return await catalog_service.variants_of(session, product_id)


async def test_label_qr_is_an_svg_pointing_at_the_product(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    product = await make_product(session, merchant=await make_merchant(session))
    await session.commit()
    r = await client.get(f"/api/v1/products/{product.id}/label.svg")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/svg+xml"
    assert f"/p/{product.id}" in r.text
    assert "<svg" in r.text


async def test_photo_upload_accepts_images_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    merchant = await make_merchant(session)
    product = await make_product(session, merchant=merchant)
    _u, headers = await make_staff(session, merchant=merchant, role=MemberRole.MANAGER)
    await session.commit()
    r = await client.post(
        f"/api/v1/products/{product.id}/photos",
        files={"file": ("x.png", PNG, "image/png")},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    served = await client.get(url)
    assert served.status_code == 200
    assert served.content == PNG
    r = await client.post(
        f"/api/v1/products/{product.id}/photos",
        files={"file": ("x.svg", b"<svg onload=alert(1)>", "image/svg+xml")},
        headers=headers,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_photo"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "A", "title_zh": "甲", "variants": []}, "variants"),
        (
            {"title": "A", "title_zh": "甲", "variants": [{"sku": "A1", "price": -1}]},
            "variants.0.price",
        ),
        (
            {"title": "A", "title_zh": "甲", "variants": [{"sku": "A 1", "price": 1}]},
            "variants.0.sku",
        ),
        (
            {
                "title": "A",
                "title_zh": "甲",
                "variants": [{"sku": "A1", "price": 1}, {"sku": "A1", "price": 2}],
            },
            "variants",
        ),
        (
            {
                "title": "A",
                "title_zh": "甲",
                "category": "nope",
                "variants": [{"sku": "A1", "price": 1}],
            },
            "category",
        ),
    ],
)
async def test_bad_products_are_refused(
    client: httpx.AsyncClient,
    session: AsyncSession,
    body: dict,
    field: str,  # type: ignore[type-arg]
) -> None:
    merchant = await make_merchant(session)
    _u, headers = await make_staff(session, merchant=merchant, role=MemberRole.OWNER)
    await session.commit()
    r = await client.post(f"/api/v1/merchants/{merchant.id}/products", json=body, headers=headers)
    assert r.status_code in (409, 422), r.text
    assert r.json()["field"] == field


async def test_unknown_ids_are_404(client: httpx.AsyncClient) -> None:
    for path in (
        "/api/v1/products/99999999",
        "/api/v1/variants/by-code/0000",
        "/api/v1/products/99999999/availability?lat=1&lng=1",
    ):
        r = await client.get(path)
        assert r.status_code == 404, path
