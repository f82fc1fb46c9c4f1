"""The shopper's order pages over HTTP: cart, checkout (once per form), paying with the demo
wallet, the order page and history, cancelling; domain errors in the form, in both languages."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.orders.models import Order
from o2o.payments import demo_wallet
from o2o.web.routes import orders as order_routes
from tests.factories import make_user
from tests.web.conftest import World, csrf_of, log_in

FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')


@pytest.fixture
async def shopper(session: AsyncSession) -> str:
    user = await make_user(session)
    await session.commit()
    return user.email


async def add(client: httpx.AsyncClient, w: World, *, qty: int = 1, store: int = 0) -> None:
    page = await client.get(f"/products/{w.product.id}")
    r = await client.post(
        "/cart/add",
        data={
            "variant_id": w.variant_ids[("M", "Black")],
            "store_id": store or w.store.id,
            "qty": qty,
            "then": "cart",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/cart"


async def checkout(
    client: httpx.AsyncClient, w: World, *, lang: str = "en", **fields: str
) -> httpx.Response:
    page = await client.get(f"/checkout?store={w.store.id}&lang={lang}")
    assert page.status_code == 200, page.text[:500]
    key = FORM_KEY.search(page.text)
    assert key
    data = {
        "csrf_token": csrf_of(page.text),
        "form_key": key.group(1),
        "from_store": str(w.store.id),
        "store_id": str(w.store.id),
        "fulfilment": "pickup",
        **fields,
    }
    return await client.post("/checkout", data=data)


async def orders_of(session: AsyncSession, email: str) -> int:
    from o2o.accounts.models import User

    user_id = await session.scalar(select(User.id).where(User.email == email))
    return int(
        await session.scalar(select(func.count(Order.id)).where(Order.shopper_id == user_id)) or 0
    )


async def test_order_pages_need_a_login(client: httpx.AsyncClient, world: World) -> None:
    for path in ("/cart", f"/checkout?store={world.store.id}", "/orders", "/orders/1/pay"):
        r = await client.get(path)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login?next="), path


async def test_cart_adds_steps_and_removes(
    client: httpx.AsyncClient, world: World, shopper: str
) -> None:
    await log_in(client, shopper)
    await add(client, world)
    await add(client, world, store=world.other_store.id)
    page = await client.get("/cart")
    assert page.status_code == 200
    assert page.text.count('class="panel cart-store"') == 2
    assert "Test Store A" in page.text
    assert "Test Store B" in page.text
    vid = world.variant_ids[("M", "Black")]
    token = csrf_of(page.text)
    for qty in ("2", "0"):
        r = await client.post(
            "/cart/update",
            data={"store_id": world.store.id, "variant_id": vid, "qty": qty, "csrf_token": token},
        )
        assert r.status_code == 303
    page = await client.get("/cart?lang=zh_CN")
    assert page.text.count('class="panel cart-store"') == 1
    assert "去结算" in page.text
    r = await client.post(
        "/cart/update",
        data={"store_id": world.other_store.id, "variant_id": vid, "qty": "0", "csrf_token": token},
    )
    assert "Your cart is empty" in (await client.get("/cart?lang=en")).text


async def test_cart_refuses_a_store_of_another_merchant(
    client: httpx.AsyncClient, world: World, shopper: str
) -> None:
    await log_in(client, shopper)
    page = await client.get(f"/products/{world.product.id}")
    r = await client.post(
        "/cart/add",
        data={
            "variant_id": world.variant_ids[("M", "Black")],
            "store_id": world.foreign_store.id,
            "csrf_token": csrf_of(page.text),
        },
    )
    assert r.status_code == 422
    assert "This store does not sell" in r.text


async def test_checkout_pay_with_the_wallet_and_see_the_code(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, world: World, shopper: str
) -> None:
    # Given one item of store A in the cart
    await log_in(client, shopper)
    await add(client, world)
    page = await client.get(f"/checkout?store={world.store.id}")
    # Then the options are what the store offers (no shipping), pickup first
    assert 'value="pickup" checked' in page.text
    assert 'value="reserve"' in page.text
    assert 'value="delivery"' in page.text
    assert 'value="shipping"' not in page.text
    # When the same form is sent twice
    key = FORM_KEY.search(page.text)
    assert key
    data = {
        "csrf_token": csrf_of(page.text),
        "form_key": key.group(1),
        "from_store": str(world.store.id),
        "store_id": str(world.store.id),
        "fulfilment": "pickup",
    }
    first = await client.post("/checkout", data=data)
    second = await client.post("/checkout", data=data)
    # Then one order is placed and both go to its pay page
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert re.fullmatch(r"/orders/\d+/pay", first.headers["location"])
    assert await orders_of(session, shopper) == 1
    assert "Your cart is empty" in (await client.get("/cart")).text

    pay = await client.get(first.headers["location"] + "?lang=zh_CN")
    assert pay.status_code == 200
    assert "<svg" in pay.text
    assert "请用钱包App扫码支付" in pay.text
    assert "open-wallet" not in pay.text  # demo mode only
    order_id = int(first.headers["location"].split("/")[2])
    order = await session.get(Order, order_id, populate_existing=True)
    assert order is not None
    assert order.payment_id is not None

    # When the wallet opens the QR's link and pays
    wallet = demo_wallet.wallet_in(app.state.payment_providers)
    link = f"/wallet/demo/{order.payment_id}?t={wallet.token_for(order.payment_id)}"
    screen = await client.get(link + "&lang=en")
    assert screen.status_code == 200
    assert "Urban Test" in screen.text
    assert "¥" in screen.text
    paid = await client.post(
        f"/wallet/demo/{order.payment_id}",
        data={"t": wallet.token_for(order.payment_id), "csrf_token": csrf_of(screen.text)},
    )
    assert paid.status_code == 303
    assert "Paid, you can return to the shop." in (await client.get(link)).text
    await app.state.relay.drain()

    # Then the order page shows it paid, with the pickup code and its QR
    shown = await client.get(f"/orders/{order_id}")
    assert 'data-status="paid"' in shown.text
    code = re.search(r'id="pickup-code">([0-9A-Z*~$=U-]+)<', shown.text)
    assert code
    assert code.group(1).count("-") == 2
    assert "Cancel order" in shown.text
    # And the pay page now leads to the order
    again = await client.get(f"/orders/{order_id}/pay")
    assert again.status_code == 303
    history = await client.get("/orders?lang=zh_CN")
    assert f'href="/orders/{order_id}"' in history.text
    assert "已支付" in history.text


async def test_a_bad_wallet_token_is_not_found(
    client: httpx.AsyncClient, world: World, shopper: str
) -> None:
    r = await client.get("/wallet/demo/1?t=nope")
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "no longer has enough"), ("zh_CN", "库存不足")],
)
async def test_domain_errors_are_shown_in_the_form(
    client: httpx.AsyncClient,
    session: AsyncSession,
    world: World,
    shopper: str,
    lang: str,
    words: str,
) -> None:
    await log_in(client, shopper)
    await add(client, world, qty=5)  # store A has 3
    r = await checkout(client, world, lang=lang)
    assert r.status_code == 409
    assert words in r.text
    assert 'id="checkout-error"' in r.text
    assert await orders_of(session, shopper) == 0


async def test_delivery_needs_an_address_within_the_radius(
    client: httpx.AsyncClient, world: World, shopper: str
) -> None:
    await log_in(client, shopper)
    await add(client, world)
    r = await checkout(client, world, fulfilment="delivery")
    assert r.status_code == 400
    assert "Enter the address" in r.text
    far = await checkout(
        client,
        world,
        lang="zh_CN",
        fulfilment="delivery",
        address_text="Far away road 1",
        address_lat=str(world.store.lat + 0.5),
        address_lng=str(world.store.lng),
    )
    assert far.status_code == 400
    assert "超出门店配送范围" in far.text
    assert 'value="Far away road 1"' in far.text  # what was typed is kept
    near = await checkout(
        client,
        world,
        fulfilment="delivery",
        address_text="Next door 2",
        address_lat=str(world.store.lat + 0.001),
        address_lng=str(world.store.lng),
    )
    assert near.status_code == 303
    assert near.headers["location"].endswith("/pay")
    order_page = await client.get(near.headers["location"].removesuffix("/pay") + "?lang=zh_CN")
    promise = re.search(r'id="order-promise">([^<]*)<', order_page.text)
    assert promise, order_page.text[:3000]
    assert re.fullmatch(r"预计 .*\d{2}:\d{2} 前送达", promise.group(1)), promise.group(1)


async def test_reserve_skips_paying_and_can_be_cancelled(
    client: httpx.AsyncClient, session: AsyncSession, world: World, shopper: str
) -> None:
    await log_in(client, shopper)
    await add(client, world)
    r = await checkout(client, world, fulfilment="reserve")
    assert r.status_code == 303
    assert re.fullmatch(r"/orders/\d+", r.headers["location"])
    page = await client.get(r.headers["location"])
    assert 'id="pickup-code"' in page.text
    assert "Held for you until" in page.text
    cancelled = await client.post(
        r.headers["location"] + "/cancel", data={"csrf_token": csrf_of(page.text)}
    )
    assert cancelled.status_code == 303
    page = await client.get(r.headers["location"] + "?lang=zh_CN")
    assert 'data-status="cancelled"' in page.text
    assert "已取消" in page.text
    assert "cancel-order" not in page.text


async def test_someone_elses_order_is_not_found(
    client: httpx.AsyncClient, world: World, shopper: str
) -> None:
    await log_in(client, shopper)
    await add(client, world)
    placed = await checkout(client, world)
    order_path = placed.headers["location"].removesuffix("/pay")
    await client.post("/logout", data={"csrf_token": csrf_of((await client.get("/me")).text)})
    await log_in(client, world.owner_email)
    for path in (order_path, order_path + "/pay", order_path + "/events"):
        assert (await client.get(path)).status_code == 404, path


async def test_history_is_paginated_newest_first(
    client: httpx.AsyncClient, world: World, shopper: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(order_routes, "PAGE", 1)
    await log_in(client, shopper)
    empty = await client.get("/orders")
    assert "Your orders will be here" in empty.text
    ids = []
    for _ in range(2):
        await add(client, world)
        placed = await checkout(client, world, fulfilment="reserve")
        ids.append(int(placed.headers["location"].split("/")[2]))
    first = await client.get("/orders")
    assert f'href="/orders/{ids[1]}"' in first.text
    assert f'href="/orders/{ids[0]}"' not in first.text
    older = re.search(r'href="(/orders\?before=\d+)"', first.text)
    assert older
    second = await client.get(older.group(1))
    assert f'href="/orders/{ids[0]}"' in second.text
    assert "Older orders" not in second.text


TITLES = {
    "en": ("My orders", "Cart", "Checkout", "Scan with your wallet app", "Progress"),
    "zh_CN": ("我的订单", "购物车", "确认订单", "请用钱包App扫码支付", "订单进度"),
}


@pytest.mark.parametrize(("lang", "marker"), [("en", 'lang="en"'), ("zh_CN", 'lang="zh-CN"')])
async def test_order_pages_render_in_both_languages(
    client: httpx.AsyncClient, world: World, shopper: str, lang: str, marker: str
) -> None:
    await log_in(client, shopper)
    await add(client, world)
    placed = await checkout(client, world)
    pay = placed.headers["location"]
    await add(client, world)
    paths = ("/orders", "/cart", f"/checkout?store={world.store.id}", pay, pay[:-4])
    for path, title in zip(paths, TITLES[lang], strict=True):
        r = await client.get(f"{path}{'&' if '?' in path else '?'}lang={lang}")
        assert r.status_code == 200, (path, r.text[:300])
        assert marker in r.text, path
        assert title in r.text, path
