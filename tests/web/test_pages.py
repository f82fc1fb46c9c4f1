"""Every page over HTTP: renders in both languages, refuses what it must, never a 500."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.web.conftest import World, csrf_of, log_in

LANGS = [("en", 'lang="en"', "Nearby"), ("zh_CN", 'lang="zh-CN"', "附近")]


def shopper_pages(w: World) -> list[str]:
    vid = w.variant_ids[("M", "Black")]
    return [
        "/?change=1",
        f"/nearby?region={w.region.code}",
        f"/nearby?region={w.region.code}&q=test&open_now=true",
        f"/nearby?lat={w.region.center_lat}&lng={w.region.center_lng}",
        f"/stores/{w.store.id}",
        f"/products/{w.product.id}?region={w.region.code}",
        f"/products/{w.product.id}?variant={vid}&lat={w.store.lat}&lng={w.store.lng}",
        f"/products/{w.product.id}?opt_size=M&opt_color=Black",
        "/login",
        "/me",
        "/deals",
    ]


@pytest.mark.parametrize(("lang", "marker", "word"), LANGS)
async def test_shopper_pages_render_in_both_languages(
    client: httpx.AsyncClient, world: World, lang: str, marker: str, word: str
) -> None:
    for path in shopper_pages(world):
        sep = "&" if "?" in path else "?"
        r = await client.get(f"{path}{sep}lang={lang}")
        assert r.status_code == 200, (path, r.text[:500])
        assert r.headers["content-type"].startswith("text/html")
        assert marker in r.text, path
        assert word in r.text, path  # the bottom bar, translated


@pytest.mark.parametrize(("lang", "marker", "word"), LANGS)
async def test_merchant_pages_render_in_both_languages(
    client: httpx.AsyncClient, world: World, lang: str, marker: str, word: str
) -> None:
    await log_in(client, world.owner_email)
    for path in (
        "/merchant",
        "/merchant/stock",
        f"/merchant/stores/{world.store.id}",
        f"/merchant/stores/{world.store.id}/stock",
        f"/merchant/stores/{world.store.id}/stock?q=jacket",
        f"/merchant/stores/{world.store.id}/stock/import",
        "/me",
    ):
        sep = "&" if "?" in path else "?"
        r = await client.get(f"{path}{sep}lang={lang}")
        assert r.status_code == 200, (path, r.text[:500])
        assert marker in r.text, path
    assert "库存" in (await client.get("/merchant?lang=zh_CN")).text


async def test_language_is_remembered_and_follows_accept_language(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.get("/login", headers={"accept-language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert 'lang="zh-CN"' in r.text
    await client.get("/login?lang=en")
    r = await client.get("/login", headers={"accept-language": "zh-CN"})
    assert 'lang="en"' in r.text  # the cookie set by ?lang= wins over the header


async def test_region_is_remembered_in_a_cookie(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get("/")
    assert r.status_code == 200  # no city yet: the picker
    await client.get(f"/nearby?region={world.region.code}")
    r = await client.get("/")
    assert r.status_code == 303
    assert r.headers["location"] == "/nearby"
    assert (await client.get("/nearby")).status_code == 200


async def test_nearby_lists_store_cards_with_distance_and_badges(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.get(f"/nearby?region={world.region.code}")
    assert f'data-id="{world.store.id}"' in r.text
    assert "Test Store A" in r.text
    assert "Open now" in r.text
    assert "Pickup" in r.text
    assert "Delivery ~" in r.text


async def test_product_page_shows_nearest_stores_with_the_variant(
    client: httpx.AsyncClient, world: World
) -> None:
    vid = world.variant_ids[("M", "Black")]
    r = await client.get(
        f"/products/{world.product.id}?variant={vid}&lat={world.store.lat}&lng={world.store.lng}"
    )
    assert "3 left" in r.text
    assert "9 left" in r.text
    assert r.text.index("Test Store A") < r.text.index("Test Store B")  # nearest first
    zh = await client.get(
        f"/products/{world.product.id}?variant={vid}&lat={world.store.lat}"
        f"&lng={world.store.lng}&lang=zh_CN"
    )
    assert "剩3件" in zh.text
    assert "黑色" in zh.text
    empty = await client.get(f"/products/{world.product.id}?opt_size=S&opt_color=Navy&lang=en")
    assert '<p class="empty-inline" id="stock-empty">No store nearby has this one' in empty.text


async def test_login_failures_are_friendly(client: httpx.AsyncClient, world: World) -> None:
    page = await client.get("/login")
    token = csrf_of(page.text)
    wrong = await client.post(
        "/login", data={"login": world.owner_email, "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 401
    assert "The login or password is wrong." in wrong.text
    empty = await client.post("/login", data={"login": "", "password": "", "csrf_token": token})
    assert empty.status_code == 400


async def test_posts_without_the_csrf_token_are_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    await client.get("/login")
    r = await client.post(
        "/login", data={"login": world.owner_email, "password": "correct-horse-9"}
    )
    assert r.status_code == 403
    assert "This form has expired" in r.text
    forged = await client.post(
        "/login",
        data={"login": world.owner_email, "password": "correct-horse-9", "csrf_token": "0" * 64},
    )
    assert forged.status_code == 403
    await log_in(client, world.owner_email)
    # The token before login belonged to the browser; after login it is bound to the session.
    r = await client.post("/logout", data={"csrf_token": "0" * 64})
    assert r.status_code == 403
    r = await client.post(
        f"/merchant/stores/{world.store.id}/stock/{world.variant_ids[('M', 'Black')]}",
        data={"on_hand": "5"},
    )
    assert r.status_code == 403


async def test_session_cookie_is_signed_httponly_and_lax(
    client: httpx.AsyncClient, world: World
) -> None:
    page = await client.get("/login")
    r = await client.post(
        "/login",
        data={
            "login": world.owner_email,
            "password": "correct-horse-9",
            "csrf_token": csrf_of(page.text),
        },
    )
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("o2o_session="))
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "o2s_" not in cookie  # the token is signed and encoded, not sent as is
    client.cookies.set("o2o_session", "tampered.value.here")
    me = await client.get("/me")
    assert "You are not logged in" in me.text


async def test_logout_ends_the_session(client: httpx.AsyncClient, world: World) -> None:
    await log_in(client, world.owner_email)
    me = await client.get("/me")
    r = await client.post("/logout", data={"csrf_token": csrf_of(me.text)})
    assert r.status_code == 303
    assert (await client.get("/merchant")).status_code == 303  # back to the login page


async def test_console_needs_a_login(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get(f"/merchant/stores/{world.store.id}/stock")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=%2Fmerchant%2Fstores%2F")


async def test_a_clerk_sees_only_their_store(client: httpx.AsyncClient, world: World) -> None:
    await log_in(client, world.clerk_email)
    assert (await client.get(f"/merchant/stores/{world.store.id}/stock")).status_code == 200
    for store in (world.other_store, world.foreign_store):
        r = await client.get(f"/merchant/stores/{store.id}/stock")
        assert r.status_code == 403, store.name
        assert "have access to this" in r.text
    listing = await client.get("/merchant")
    assert "Test Store A" in listing.text
    assert "Test Store B" not in listing.text
    # Clerks count stock but do not edit the store itself.
    assert (await client.get(f"/merchant/stores/{world.store.id}")).status_code == 403


async def test_other_merchants_and_shoppers_are_kept_out(
    client: httpx.AsyncClient, world: World
) -> None:
    await log_in(client, world.stranger_email)
    r = await client.get(f"/merchant/stores/{world.store.id}/stock")
    assert r.status_code == 403
    page = await client.get(f"/merchant/stores/{world.foreign_store.id}/stock/import")
    assert page.status_code == 200
    token = csrf_of(page.text)
    r = await client.post(
        f"/merchant/stores/{world.store.id}/stock/{world.variant_ids[('M', 'Black')]}",
        data={"on_hand": "99", "csrf_token": token},
    )
    assert r.status_code == 403


async def test_stock_edit_from_the_grid_changes_availability(
    client: httpx.AsyncClient, world: World
) -> None:
    await log_in(client, world.clerk_email)
    grid = await client.get(f"/merchant/stores/{world.store.id}/stock")
    token = csrf_of(grid.text)
    vid = world.variant_ids[("L", "Navy")]
    url = f"/merchant/stores/{world.store.id}/stock/{vid}"
    r = await client.post(
        url, data={"on_hand": "7"}, headers={"HX-Request": "true", "X-CSRF-Token": token}
    )
    assert r.status_code == 200, r.text
    assert 'value="7"' in r.text
    assert "Saved." in r.text
    api = await client.get(
        "/api/v1/stores/nearby",
        params={"lat": world.store.lat, "lng": world.store.lng, "variant_id": vid},
    )
    assert [(s["id"], s["available_qty"]) for s in api.json()["items"]] == [(world.store.id, 7)]
    for bad in ("abc", "-1", "1.5", "", "99999999999"):
        r = await client.post(
            url, data={"on_hand": bad}, headers={"HX-Request": "true", "X-CSRF-Token": token}
        )
        assert r.status_code == 422, bad
        assert "Enter a whole number" in r.text
    plain = await client.post(url, data={"on_hand": "x", "csrf_token": token})
    assert plain.status_code == 422
    assert "text/html" in plain.headers["content-type"]
    ok = await client.post(url, data={"on_hand": "4", "csrf_token": token})
    assert ok.status_code == 303


async def test_csv_import_reports_bad_rows_and_applies_good_rows_on_request(
    client: httpx.AsyncClient, world: World
) -> None:
    await log_in(client, world.owner_email)
    page = await client.get(f"/merchant/stores/{world.store.id}/stock/import")
    token = csrf_of(page.text)
    grid = await client.get(f"/merchant/stores/{world.store.id}/stock")
    skus = sorted(set(re.findall(r"SKU-\d+-\w+-\w+", grid.text)))
    good = next(s for s in skus if s.endswith("Navy-S"))
    twice = next(s for s in skus if s != good)
    body = f"sku,on_hand\n{good},12\nNOPE-1,3\n{twice},4\n{twice},5\n{skus[0]},lots\n"
    url = f"/merchant/stores/{world.store.id}/stock/import"
    r = await client.post(
        url, data={"csrf_token": token}, files={"file": ("counts.csv", body, "text/csv")}
    )
    assert r.status_code == 422
    assert "Nothing was applied" in r.text
    assert "No product of this merchant has this SKU" in r.text
    assert "appears twice" in r.text
    r = await client.post(
        url,
        data={"csrf_token": token, "good_rows_only": "1"},
        files={"file": ("counts.csv", body, "text/csv")},
    )
    assert r.status_code == 200
    assert "1 rows applied, 0 unchanged, 4 skipped" in r.text
    grid = await client.get(f"/merchant/stores/{world.store.id}/stock?q={good}")
    assert 'value="12"' in grid.text
    for content, why in (
        (b"", "Choose a CSV"),
        (b"\xff\xfe\x00", "not readable text"),
        (b"a,b\n1,2", "sku (or barcode"),
    ):
        r = await client.post(
            url, data={"csrf_token": token}, files={"file": ("x.csv", content, "text/csv")}
        )
        assert r.status_code == 422
        assert why in r.text


async def test_store_edit_validates_and_saves(client: httpx.AsyncClient, world: World) -> None:
    await log_in(client, world.owner_email)
    url = f"/merchant/stores/{world.store.id}"
    form = await client.get(url)
    token = csrf_of(form.text)
    data = {
        "csrf_token": token,
        "name": "Renamed Store",
        "name_zh": "新名字",
        "lat": str(world.store.lat),
        "lng": str(world.store.lng),
        "delivery_radius_m": "2500",
        "pickup": "on",
        "delivery": "on",
        **{f"hours_{d}": "10:00-22:00" for d in range(7)},
    }
    bad = await client.post(url, data={**data, "hours_2": "ten to ten", "lat": "north"})
    assert bad.status_code == 422
    assert "Nothing was saved" in bad.text
    assert 'aria-invalid="true"' in bad.text
    far = await client.post(url, data={**data, "lat": "89.99", "lng": "0"})
    assert far.status_code in (200, 422)  # the factory region spans the globe; never a 500
    ok = await client.post(url, data={**data, "hours_6": "18:00-02:00, 10:00-12:00"})
    assert ok.status_code == 303
    saved = await client.get(ok.headers["location"])
    assert "Renamed Store" in saved.text
    assert "18:00-02:00" in saved.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/nearby?lat=abc&lng=1", 422),
        ("/nearby?lat=91&lng=1", 422),
        ("/stores/999999999", 404),
        ("/stores/abc", 422),
        ("/products/999999999", 404),
        ("/products/1?lat=1", 200),
        ("/nowhere", 404),
        ("/nearby?region=atlantis", 303),
    ],
)
async def test_bad_page_input_is_a_friendly_page(
    client: httpx.AsyncClient, world: World, path: str, status: int
) -> None:
    r = await client.get(path)
    if path.startswith("/products/1?"):
        path = f"/products/{world.product.id}?lat=1"
        r = await client.get(path)
    assert r.status_code == status, (path, r.text[:300])
    if status >= 400:
        assert r.headers["content-type"].startswith("text/html")
        assert "Go to the home page" in r.text


async def test_nearby_with_unsearchable_text_explains_itself(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.get(f"/nearby?region={world.region.code}&q=%21%21")
    assert r.status_code == 200
    assert "Type a word to search for" in r.text


async def test_the_api_still_answers_problem_json(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/stores/999999999")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_catalog_create_and_edit(client: httpx.AsyncClient, world: World) -> None:
    await log_in(client, world.owner_email)
    listing = await client.get("/merchant/catalog?lang=en")
    assert listing.status_code == 200
    assert "Jacket" in listing.text
    form = await client.get("/merchant/catalog/new")
    token = csrf_of(form.text)
    merchant_id = world.store.merchant_id
    data = {
        "csrf_token": token,
        "merchant_id": str(merchant_id),
        "title": "Rain Coat",
        "title_zh": "雨衣",
        "sizes": "S, M",
        "colors": "Red，Blue",
        "sku_prefix": "RC1",
        "price": "299.5",
    }
    bad = await client.post("/merchant/catalog/new", data={**data, "price": "cheap", "title": ""})
    assert bad.status_code == 422
    assert "Enter a price in yuan" in bad.text
    assert "Fill this in." in bad.text
    r = await client.post("/merchant/catalog/new", data=data)
    assert r.status_code == 303, r.text
    edit = await client.get(r.headers["location"])
    for sku in ("RC1-RED-S", "RC1-RED-M", "RC1-BLUE-S", "RC1-BLUE-M"):
        assert sku in edit.text
    assert 'value="299.50"' in edit.text
    again = await client.post("/merchant/catalog/new", data=data)
    assert again.status_code == 422  # the SKUs are taken
    assert "already used" in again.text
    ids = re.findall(r'name="price_(\d+)"', edit.text)
    prices = {f"price_{i}": "100" for i in ids} | {f"active_{i}": "on" for i in ids}
    url = r.headers["location"].split("?")[0]
    payload = {"csrf_token": token, "title": "Rain Coat 2", "title_zh": "雨衣二代", **prices}
    assert (await client.post(url, data={**payload, f"price_{ids[0]}": "-1"})).status_code == 422
    saved = await client.post(url, data=payload)
    assert saved.status_code == 303
    page = await client.get(saved.headers["location"])
    assert "Rain Coat 2" in page.text
    assert 'value="100.00"' in page.text


async def test_clerks_cannot_edit_the_catalog(client: httpx.AsyncClient, world: World) -> None:
    await log_in(client, world.clerk_email)
    assert (await client.get("/merchant/catalog")).status_code == 200
    assert (await client.get("/merchant/catalog/new")).status_code == 403
    assert (await client.get(f"/merchant/catalog/{world.product.id}")).status_code == 403


async def test_a_scanned_label_opens_the_product_near_its_store(
    client: httpx.AsyncClient, world: World
) -> None:
    label = await client.get(
        f"/api/v1/products/{world.product.id}/label.svg", params={"store_id": world.store.id}
    )
    assert label.status_code == 200
    target = re.search(r"http://[^/]+(/p/\d+\?store=\d+)", label.text)
    assert target is not None, "the QR code's title carries its URL"
    r = await client.get(target.group(1))
    assert r.status_code == 303
    assert r.headers["location"] == (
        f"/products/{world.product.id}?lat={world.store.lat}&lng={world.store.lng}"
    )
    page = await client.get(r.headers["location"] + "&lang=en")
    assert page.status_code == 200
    assert world.store.name in page.text
    assert (await client.get("/p/99999999")).status_code == 404
    assert (await client.get("/p/99999999999999999999999")).status_code in (404, 422)


async def test_out_of_range_ids_in_page_urls_are_not_server_errors(
    client: httpx.AsyncClient, world: World
) -> None:
    await log_in(client, world.owner_email)
    huge = "9" * 25
    for path in (
        f"/stores/{huge}",
        f"/products/{huge}",
        f"/products/{world.product.id}?variant={huge}",
        f"/p/{world.product.id}?store={huge}",
        f"/merchant/stores/{huge}",
        f"/merchant/stores/{huge}/stock",
        f"/merchant/stores/{world.store.id}/stock?after={huge}",
        f"/merchant/catalog/{huge}",
    ):
        r = await client.get(path)
        assert 400 <= r.status_code < 500, (path, r.status_code)


async def test_owner_uploads_a_photo_that_shoppers_then_see(
    client: httpx.AsyncClient, world: World
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128
    await log_in(client, world.owner_email)
    url = f"/merchant/catalog/{world.product.id}"
    token = csrf_of((await client.get(url)).text)
    r = await client.post(
        f"{url}/photos",
        data={"csrf_token": token},
        files={"file": ("not-a-photo.svg", b"<svg onload=alert(1)>", "image/svg+xml")},
    )
    assert r.status_code == 422
    assert "JPEG, PNG, GIF or WebP" in r.text
    r = await client.post(
        f"{url}/photos", data={"csrf_token": token}, files={"file": ("p.png", png, "image/png")}
    )
    assert r.status_code == 303
    assert "Photo added" in (await client.get(r.headers["location"])).text
    page = await client.get(f"/products/{world.product.id}?lang=en")
    src = re.search(r'<img src="(/media/[^"]+)"', page.text)
    assert src is not None
    assert (await client.get(src.group(1))).content == png
    r = await client.post(
        f"{url}/photos", data={"csrf_token": "forged"}, files={"file": ("p.png", png, "image/png")}
    )
    assert r.status_code == 403
