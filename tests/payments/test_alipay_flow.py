"""Alipay end to end through HTTP, against the in-process sandbox: precreate → QR → the
wallet pays → the signed notification → the order is paid, once."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.payments import service as payments_service
from o2o.sandbox.alipay import AlipaySandbox
from tests.orders.scene import make_scene, place
from tests.payments.alipay_scene import logged, order_of, out_trade_no, scan_and_pay, start


async def test_an_order_is_paid_by_scanning_the_code_and_the_notification(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    # given a placed order, paid with Alipay
    scene = await make_scene(session)
    placed = (await place(alipay_client, scene)).json()
    payment = await start(alipay_client, scene, placed["id"])
    assert payment["qr_payload"].startswith(f"{sandbox.base_url}/qr/")
    trade = sandbox.trade(out_trade_no(payment))
    assert trade.amount == placed["total"]  # fen for fen, through the yuan string

    # when the shopper scans and pays, the order waits for Alipay's notification
    await scan_and_pay(alipay_client, payment["qr_payload"])
    assert (await order_of(alipay_client, scene, placed["id"]))["status"] == "placed"
    (delivery,) = await sandbox.deliver()

    # then the platform answered exactly "success" and the order is paid, with the trade's number
    assert (delivery.status, delivery.text) == (200, "success")
    order = await order_of(alipay_client, scene, placed["id"])
    assert order["status"] == "paid"
    paid = await payments_service.get_payment(session, payment_id=payment["payment_id"])
    await session.refresh(paid)
    assert (paid.status, paid.amount, paid.provider_trade_no) == (
        "succeeded",
        placed["total"],
        trade.trade_no,
    )
    assert await logged(session) == [("applied", "")]
    # and Alipay, having read "success", sends nothing more
    assert await sandbox.deliver() == []


async def test_the_api_pays_with_the_platforms_default_provider_when_none_is_named(
    alipay_client: httpx.AsyncClient, sandbox: AlipaySandbox, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    placed = (await place(alipay_client, scene)).json()
    started = await alipay_client.post(
        f"/api/v1/orders/{placed['id']}/payments", json={}, headers=scene.shopper_headers
    )
    assert started.status_code == 201, started.text
    assert (started.json()["provider"], started.json()["qr_payload"][: len(sandbox.base_url)]) == (
        "alipay",
        sandbox.base_url,
    )
