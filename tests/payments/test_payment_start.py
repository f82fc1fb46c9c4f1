"""Starting a payment in two transactions around the provider's call, against the WeChat Pay
simulator: a provider that fails leaves a failed attempt, a free order and a clear 503
problem; a failed close at cancel is retried by the worker; a payment left ``creating`` by a
request that is gone is replaced."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.outbox_models import OutboxMessage
from o2o.payments.models import Payment, PaymentStatus
from o2o.payments.service import CLOSE_TOPIC
from o2o.payments.wechat.trade_no import out_trade_no
from tests.orders.scene import key, make_scene, place
from tests.payments.wechat_scene import WechatWorld, order_of, start_wechat_payment, trade_no


async def _payments(session: AsyncSession) -> list[Payment]:
    return list(
        await session.scalars(
            select(Payment).order_by(Payment.id).execution_options(populate_existing=True)
        )
    )


async def _closes(session: AsyncSession) -> list[OutboxMessage]:
    return list(
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.topic == CLOSE_TOPIC)
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
    )


async def test_a_provider_that_fails_leaves_a_failed_attempt_and_a_503_then_a_retry_pays(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    # given WeChat Pay answering the next call with a system error
    scene = await make_scene(session)
    order_id = (await place(wechat.client, scene)).json()["id"]
    wechat.sim.fail_next, wechat.sim.fail_status = 1, 500
    headers = {**scene.shopper_headers, **key()}

    # when the shopper starts paying
    failed = await wechat.client.post(
        f"/api/v1/orders/{order_id}/payments", json={"provider": "wechat"}, headers=headers
    )

    # then a problem with a stable code, the attempt recorded failed, the order free
    assert failed.status_code == 503
    assert failed.headers["content-type"] == "application/problem+json"
    assert failed.json()["code"] == "provider_unavailable"
    [attempt] = await _payments(session)
    assert (attempt.status, attempt.qr_payload) == (PaymentStatus.FAILED, "")
    assert (await order_of(wechat, scene, order_id))["payment_id"] is None
    # WeChat Pay may have opened the trade: the worker is to close it
    assert [m.payload for m in await _closes(session)] == [{"payment_id": attempt.id}]

    # when the same request is sent again (same Idempotency-Key: the failure freed it)
    again = await wechat.client.post(
        f"/api/v1/orders/{order_id}/payments", json={"provider": "wechat"}, headers=headers
    )

    # then it runs afresh: a new payment under a new number, with its QR
    assert again.status_code == 201, again.text
    assert again.json()["payment_id"] != attempt.id
    assert again.json()["qr_payload"].startswith("weixin://")
    assert wechat.sim.trade(trade_no(again.json())).state == "NOTPAY"
    assert (await order_of(wechat, scene, order_id))["payment_id"] == again.json()["payment_id"]


async def test_a_refused_charge_fails_at_once_with_nothing_to_close(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    order_id = (await place(wechat.client, scene)).json()["id"]
    object.__setattr__(wechat.provider.config, "appid", "wx00000000000000aa")  # not the mchid's

    refused = await wechat.client.post(
        f"/api/v1/orders/{order_id}/payments",
        json={"provider": "wechat"},
        headers=scene.shopper_headers,
    )

    assert (refused.status_code, refused.json()["code"]) == (502, "provider_refused")
    [attempt] = await _payments(session)
    assert attempt.status == PaymentStatus.FAILED
    assert await _closes(session) == []  # a definite refusal opened no trade


async def test_a_close_that_fails_at_cancel_is_retried_by_the_worker(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    # given a pending WeChat Pay payment, and WeChat Pay down when the order is cancelled
    scene = await make_scene(session)
    order_id, payment = await start_wechat_payment(wechat, scene)
    wechat.sim.fail_next = 1
    cancelled = await wechat.client.post(
        f"/api/v1/orders/{order_id}/cancel", headers=scene.shopper_headers
    )
    # the cancel itself never waits on WeChat Pay
    assert cancelled.status_code == 200, cancelled.text
    [row] = await _payments(session)
    assert row.status == PaymentStatus.CLOSED

    # when the worker tries to close the trade: WeChat Pay fails, the message waits
    await wechat.app.state.relay.drain()
    trade = wechat.sim.trade(trade_no(payment))
    assert trade.state == "NOTPAY"
    [message] = await _closes(session)
    assert message.processed_at is None
    assert message.attempts == 1
    assert "provider_unavailable" in message.last_error or "500" in message.last_error

    # then the next try (once due) closes it
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message.id).values(available_at=utcnow())
    )
    await session.commit()
    await wechat.app.state.relay.drain()
    assert trade.state == "CLOSED"
    [message] = await _closes(session)
    assert message.processed_at is not None


async def test_a_payment_left_creating_by_a_gone_request_is_replaced(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    # given a payment left ``creating`` long ago (the request crashed before its answer)
    scene = await make_scene(session)
    order_id, payment = await start_wechat_payment(wechat, scene)
    await session.execute(
        update(Payment)
        .where(Payment.id == payment["payment_id"])
        .values(status=PaymentStatus.CREATING, created_at=utcnow() - timedelta(minutes=5))
    )
    await session.commit()

    # when the shopper starts paying again
    again = await wechat.client.post(
        f"/api/v1/orders/{order_id}/payments",
        json={"provider": "wechat"},
        headers=scene.shopper_headers,
    )

    # then the stale one is closed (at WeChat Pay too, by the worker) and a new one made
    assert again.status_code == 201, again.text
    old, new = await _payments(session)
    assert (old.status, new.status) == (PaymentStatus.CLOSED, PaymentStatus.PENDING)
    assert new.id == again.json()["payment_id"]
    await wechat.app.state.relay.drain()
    assert wechat.sim.trade(out_trade_no(old.id)).state == "CLOSED"
    assert wechat.sim.trade(out_trade_no(new.id)).state == "NOTPAY"
