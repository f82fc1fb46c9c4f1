"""Alipay in tests: the platform in sandbox mode (the simulator mounted in the app, called in
process both ways), with notifications sent only when a test says so."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.bootstrap import create_app
from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.payments.models import PaymentNotification
from o2o.sandbox.alipay import SANDBOX_APP_ID, AlipaySandbox, sandbox_settings
from tests.orders.scene import OrderScene

NOTIFY = "/api/v1/payments/alipay/notify"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def alipay_settings(settings: Settings, **overrides: Any) -> Settings:
    """``settings`` with Alipay (the default provider) pointed at the sandbox."""
    return settings.model_copy(
        update={
            "payment_providers": ["alipay", "demo"],
            **sandbox_settings(settings.data_dir, app_id=SANDBOX_APP_ID),
            **overrides,
        }
    )


def alipay_app(settings: Settings, database: Database) -> tuple[FastAPI, AlipaySandbox]:
    app = create_app(alipay_settings(settings), database=database)
    sandbox: AlipaySandbox = app.state.alipay_sandbox
    sandbox.auto_notify = False  # tests send each notification themselves
    return app, sandbox


def out_trade_no(payment: dict[str, Any]) -> str:
    return f"O2O{payment['payment_id']}"


async def start(client: httpx.AsyncClient, scene: OrderScene, order_id: int) -> dict[str, Any]:
    """Start paying the order with Alipay; the payment (its QR is the sandbox's)."""
    started = await client.post(
        f"/api/v1/orders/{order_id}/payments",
        json={"provider": "alipay"},
        headers=scene.shopper_headers,
    )
    assert started.status_code == 201, started.text
    payment: dict[str, Any] = started.json()
    return payment


async def scan_and_pay(client: httpx.AsyncClient, qr_payload: str) -> None:
    """The shopper opens the code in the wallet and pays, as a person would."""
    path = urlsplit(qr_payload).path
    page = await client.get(path)
    assert page.status_code == 200, page.text
    paid = await client.post(f"{path}/pay")
    assert paid.status_code == 303, paid.text


async def order_of(client: httpx.AsyncClient, scene: OrderScene, order_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/orders/{order_id}", headers=scene.shopper_headers)
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


async def notify(
    client: httpx.AsyncClient, body: bytes, content_type: str = FORM
) -> httpx.Response:
    return await client.post(NOTIFY, content=body, headers={"Content-Type": content_type})


async def logged(session: AsyncSession) -> list[tuple[str, str]]:
    """(outcome, reason) of every Alipay notification received, oldest first."""
    rows = await session.execute(
        select(PaymentNotification.outcome, PaymentNotification.reason)
        .where(PaymentNotification.provider == "alipay")
        .order_by(PaymentNotification.id)
    )
    return [(str(outcome), reason) for outcome, reason in rows.all()]


def fields(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("ascii")))
