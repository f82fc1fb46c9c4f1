"""The demo wallet's daily statement lists each payment and each refund it made, once."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.payments import demo_wallet
from o2o.payments import service as payments_service
from tests.orders.scene import make_scene, pay, place


async def test_statement_lists_payments_and_refunds_of_the_day(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    # given a paid order, then cancelled by the shopper (a full refund)
    scene = await make_scene(session)
    placed = await place(client, scene)
    order = await pay(client, app, scene, placed.json()["id"])
    assert order["status"] == "paid"
    cancelled = await client.post(
        f"/api/v1/orders/{order['id']}/cancel", headers=scene.shopper_headers
    )
    assert cancelled.status_code == 200, cancelled.text
    await app.state.relay.drain()  # the worker makes the refund at the wallet
    wallet = demo_wallet.wallet_in(app.state.payment_providers)
    payment_id = order["payment_id"]
    refunds = await payments_service.refunds_of(session, payment_id=payment_id)
    assert len(refunds) == 1

    # when the wallet's statement for today is read
    lines = await wallet.bill(session, utcnow().date())

    # then it holds the payment and the refund, with our numbers
    mine = [line for line in lines if line.payment_id == payment_id]
    assert [(line.kind, line.amount) for line in mine] == [
        ("payment", order["total"]),
        ("refund", order["total"]),
    ]
    assert mine[1].refund_request_no == refunds[0].request_no
    assert mine[0].provider_trade_no == mine[1].provider_trade_no
    # and a day without trades is empty
    assert await wallet.bill(session, utcnow().date().replace(year=2001)) == []


async def test_a_repeated_refund_request_is_made_once(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    placed = await place(client, scene)
    order = await pay(client, app, scene, placed.json()["id"])
    wallet = demo_wallet.wallet_in(app.state.payment_providers)
    payment = await payments_service.get_payment(session, payment_id=order["payment_id"])
    refund = await payments_service.refund(
        session,
        payment_id=payment.id,
        amount=100,
        reason="test",
        reference="t",
    )
    await session.commit()
    await app.state.relay.drain()
    await session.refresh(refund)
    # the provider is asked again with the same request number (a retry after a timeout)
    again = await wallet.refund(session, payment, refund)
    await session.commit()
    assert again == refund.provider_refund_no
    lines = await wallet.bill(session, utcnow().date())
    assert [line.amount for line in lines if line.kind == "refund"] == [100]
