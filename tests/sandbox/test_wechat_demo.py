"""``o2o demo --payments wechat-sandbox``: a person places an order, chooses WeChat Pay, sees
the QR, opens the sandbox's wallet page, pays, and the order becomes paid by itself."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.cli.demo import Payments, demo_app, demo_settings, start_sandboxes
from o2o.core.db import Database
from o2o.sandbox.wechat.provision import provision
from tests.orders.scene import make_scene, place
from tests.web.conftest import csrf_of, log_in

BASE = "http://127.0.0.1:8000"
WALLET = re.compile(r'id="open-wallet" href="(/sandbox/wechat/pay/[^"]+)"')
FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')


async def test_the_demo_pays_with_wechat_pay_through_the_sandbox(
    tmp_path: Path,
    database: Database,
    session: AsyncSession,
    wechat_keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey],
) -> None:
    # given the demo started with the WeChat Pay sandbox (its keys kept under the data dir)
    keys_dir = tmp_path / "sandbox" / "wechat"
    provision(keys_dir, merchant_key=wechat_keys[0], platform_key=wechat_keys[1])
    (sandbox,) = start_sandboxes([Payments.WECHAT_SANDBOX], data_dir=tmp_path, base_url=BASE)
    assert sandbox.account.directory == keys_dir  # the same account on every start
    settings = demo_settings(tmp_path, base_url=BASE, sandboxes=[sandbox])
    assert settings.payment_providers == ["wechat", "demo"]
    assert settings.wechat_private_key_path == keys_dir / "apiclient_key.pem"
    app = demo_app(settings, [sandbox], database=database)
    scene = await make_scene(session)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        await log_in(client, scene.shopper.email)
        order_id = (await place(client, scene)).json()["id"]

        # when the shopper opens the pay page, WeChat Pay is offered first
        page = await client.get(f"/orders/{order_id}/pay")
        assert page.status_code == 200
        assert "Pay with WeChat Pay" in page.text
        assert "Pay with Demo wallet" in page.text
        assert page.text.index("Pay with WeChat Pay") < page.text.index("Pay with Demo wallet")
        chosen = await client.post(
            f"/orders/{order_id}/pay", data={"provider": "wechat", "csrf_token": csrf_of(page.text)}
        )
        assert chosen.status_code == 303

        # then the page shows WeChat Pay's QR, and a link to the sandbox's wallet page
        page = await client.get(f"/orders/{order_id}/pay")
        assert "WeChat Pay" in page.text
        assert "<svg" in page.text
        link = WALLET.search(page.text)
        assert link is not None
        trade = next(iter(sandbox.simulator.trades.values()))
        assert trade.code in link.group(1)
        zh = await client.get(f"/orders/{order_id}/pay?lang=zh_CN")
        assert "微信支付" in zh.text

        # when the person opens the wallet page and presses Pay
        wallet = await client.get(link.group(1))
        assert wallet.status_code == 200
        assert f"¥{trade.total // 100}.{trade.total % 100:02d}" in wallet.text
        paid = await client.post(link.group(1))
        assert paid.status_code == 303
        await sandbox.simulator.settle()

        # then WeChat Pay's notification made the order paid, and the wallet says so
        order = await client.get(f"/api/v1/orders/{order_id}", headers=scene.shopper_headers)
        assert order.json()["status"] == "paid"
        wallet = await client.get(link.group(1))
        assert "支付成功" in wallet.text
        assert "204" in wallet.text
        assert (await client.get("/sandbox/wechat/pay/nope")).status_code == 404


async def test_choosing_another_way_to_pay_closes_the_wechat_trade(
    tmp_path: Path,
    database: Database,
    session: AsyncSession,
    wechat_keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey],
) -> None:
    provision(
        tmp_path / "sandbox" / "wechat", merchant_key=wechat_keys[0], platform_key=wechat_keys[1]
    )
    (sandbox,) = start_sandboxes([Payments.WECHAT_SANDBOX], data_dir=tmp_path, base_url=BASE)
    app = demo_app(
        demo_settings(tmp_path, base_url=BASE, sandboxes=[sandbox]), [sandbox], database=database
    )
    scene = await make_scene(session)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        await log_in(client, scene.shopper.email)
        order_id = (await place(client, scene)).json()["id"]
        page = await client.get(f"/orders/{order_id}/pay")
        await client.post(
            f"/orders/{order_id}/pay", data={"provider": "wechat", "csrf_token": csrf_of(page.text)}
        )
        page = await client.get(f"/orders/{order_id}/pay")
        assert "Or pay another way:" in page.text
        switched = await client.post(
            f"/orders/{order_id}/pay", data={"provider": "demo", "csrf_token": csrf_of(page.text)}
        )
        assert switched.status_code == 303
        page = await client.get(f"/orders/{order_id}/pay")
        assert 'href="/wallet/demo/' in page.text
    # the worker closes the replaced trade after the switch committed
    (trade,) = sandbox.simulator.trades.values()
    assert trade.state == "NOTPAY"
    await app.state.relay.drain()
    assert trade.state == "CLOSED"


async def test_checkout_keeps_the_order_when_wechat_pay_is_down(
    tmp_path: Path,
    database: Database,
    session: AsyncSession,
    wechat_keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey],
) -> None:
    provision(
        tmp_path / "sandbox" / "wechat", merchant_key=wechat_keys[0], platform_key=wechat_keys[1]
    )
    (sandbox,) = start_sandboxes([Payments.WECHAT_SANDBOX], data_dir=tmp_path, base_url=BASE)
    app = demo_app(
        demo_settings(tmp_path, base_url=BASE, sandboxes=[sandbox]), [sandbox], database=database
    )
    scene = await make_scene(session)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        await log_in(client, scene.shopper.email)
        cart = await client.get(f"/products/{scene.variants[0].product_id}")
        added = await client.post(
            "/cart/add",
            data={
                "variant_id": scene.variants[0].id,
                "store_id": scene.store.id,
                "csrf_token": csrf_of(cart.text),
            },
        )
        assert added.status_code == 303
        page = await client.get(f"/checkout?store={scene.store.id}")
        key = FORM_KEY.search(page.text)
        assert key is not None
        # WeChat Pay answers 500 while the shopper checks out
        sandbox.simulator.fail_next = 1
        done = await client.post(
            "/checkout",
            data={
                "csrf_token": csrf_of(page.text),
                "form_key": key.group(1),
                "from_store": str(scene.store.id),
                "store_id": str(scene.store.id),
                "fulfilment": "pickup",
            },
        )
        # the order is placed all the same, and its pay page offers to try again
        assert done.status_code == 303, done.text[:300]
        pay_url = done.headers["location"]
        assert pay_url.endswith("/pay")
        page = await client.get(pay_url)
        assert "Pay with WeChat Pay" in page.text
        again = await client.post(
            pay_url, data={"provider": "wechat", "csrf_token": csrf_of(page.text)}
        )
        assert again.status_code == 303
        assert WALLET.search((await client.get(pay_url)).text) is not None
