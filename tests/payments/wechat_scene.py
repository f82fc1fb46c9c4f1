"""A platform that takes WeChat Pay, wired to the WeChat Pay simulator in-process.

The platform's provider is configured exactly as for the real WeChat Pay (key files, serials,
API v3 key), with its API base on a host only the in-process router knows. The simulator
notifies the platform's app in-process and retries at once (no sleeping in tests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from o2o.bootstrap import create_app
from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.payments.wechat import WechatPayProvider
from o2o.payments.wechat.trade_no import out_trade_no
from o2o.sandbox.routing import HostRouter
from o2o.sandbox.wechat import WechatPaySimulator
from o2o.sandbox.wechat.provision import SandboxAccount, new_key, provision
from tests.orders.scene import OrderScene, place

HOST = "api.mch.weixin.sandbox"
NOTIFY = "/api/v1/payments/wechat/notify"


async def no_sleep(_seconds: float) -> None:
    return None


@dataclass
class WechatWorld:
    app: FastAPI
    client: httpx.AsyncClient
    sim: WechatPaySimulator
    account: SandboxAccount
    settings: Settings

    @property
    def provider(self) -> WechatPayProvider:
        provider = self.app.state.payment_providers.get("wechat")
        assert isinstance(provider, WechatPayProvider)
        return provider


def wechat_settings(account: SandboxAccount, data_dir: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "sqlite+aiosqlite://",  # unused: tests pass the database in
        "data_dir": data_dir,
        "secret_key": "test-secret-key-0123456789",
        "base_url": "https://shop.example",
        "payment_providers": ["demo", "wechat"],
        **account.settings(api_base=f"http://{HOST}"),
        **extra,
    }
    return Settings(**values)


def build(
    database: Database, directory: Path, keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> tuple[FastAPI, WechatPaySimulator, SandboxAccount, Settings]:
    account = provision(directory / "wechat", merchant_key=keys[0], platform_key=keys[1])
    sim = WechatPaySimulator(
        platform_key=account.platform_key(),
        platform_serial=account.platform_serial,
        merchants=[account.merchant()],
        schedule=(0, 0, 0),
        sleep=no_sleep,
    )
    settings = wechat_settings(account, directory / "data")
    app = create_app(
        settings,
        database=database,
        payment_transport=HostRouter({HOST: httpx.ASGITransport(app=sim.app)}),
    )
    sim.notify_transport = httpx.ASGITransport(app=app)
    return app, sim, account, settings


@pytest.fixture(scope="session")
def wechat_keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    """The merchant's key and WeChat Pay's, made once: RSA key generation is slow."""
    return new_key(), new_key()


@pytest.fixture
async def wechat(
    tmp_path: Path,
    database: Database,
    wechat_keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey],
) -> AsyncIterator[WechatWorld]:
    app, sim, account, settings = build(database, tmp_path, wechat_keys)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield WechatWorld(app, client, sim, account, settings)
    await sim.settle()


async def start_wechat_payment(w: WechatWorld, scene: OrderScene) -> tuple[int, dict[str, Any]]:
    """Place an order and start paying it with WeChat Pay: (order id, the payment)."""
    placed = await place(w.client, scene)
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    started = await w.client.post(
        f"/api/v1/orders/{order_id}/payments",
        json={"provider": "wechat"},
        headers=scene.shopper_headers,
    )
    assert started.status_code == 201, started.text
    return order_id, started.json()


def trade_no(payment: dict[str, Any]) -> str:
    return out_trade_no(int(payment["payment_id"]))


async def order_of(w: WechatWorld, scene: OrderScene, order_id: int) -> dict[str, Any]:
    response = await w.client.get(f"/api/v1/orders/{order_id}", headers=scene.shopper_headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result
