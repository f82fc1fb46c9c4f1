"""WeChat Pay beyond the notification: query when it is lost, partial refunds, closing on
cancel (and a payment that beats the close), the daily bill, and a gateway that fails."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.payments import service as payments_service
from o2o.payments.exceptions import (
    CurrencyNotSupported,
    ProviderAnswerInvalid,
    ProviderRefused,
    ProviderUnavailable,
    RefundExceedsPaid,
)
from o2o.payments.models import Payment, PaymentStatus, Refund
from o2o.payments.wechat import WechatPayProvider
from o2o.sandbox.routing import HostRouter
from o2o.worker.relay import Relay
from tests.orders.scene import make_scene
from tests.payments.wechat_scene import (
    HOST,
    WechatWorld,
    order_of,
    start_wechat_payment,
    trade_no,
)


async def _paid(w: WechatWorld, session: AsyncSession) -> tuple[int, Payment]:
    scene = await make_scene(session)
    order_id, started = await start_wechat_payment(w, scene)
    await w.sim.pay(trade_no(started))
    payment = await payments_service.get_payment(session, payment_id=started["payment_id"])
    await session.refresh(payment)
    assert payment.status == PaymentStatus.SUCCEEDED
    return order_id, payment


async def test_a_lost_notification_is_settled_by_the_reconcile_timer(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    # given a payment the payer paid, whose notification never arrives
    scene = await make_scene(session)
    order_id, payment = await start_wechat_payment(wechat, scene)
    wechat.sim.drop_notifications = True
    assert await wechat.sim.pay(trade_no(payment)) is None
    assert (await order_of(wechat, scene, order_id))["status"] == "placed"
    await session.execute(
        update(Payment)
        .where(Payment.id == payment["payment_id"])
        .values(created_at=utcnow() - timedelta(minutes=5))
    )
    await session.commit()

    # when the reconcile timer asks WeChat Pay about pending payments
    relay: Relay = wechat.app.state.relay
    assert (await relay.run_timers(force=True))["reconcile_payments"] == 1

    # then the order is paid, as if the notification had come
    order = await order_of(wechat, scene, order_id)
    assert order["status"] == "paid"
    assert order["pickup_code"] is not None


async def test_query_reports_unpaid_and_unknown_trades(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    _order_id, started = await start_wechat_payment(wechat, scene)
    payment = await payments_service.get_payment(session, payment_id=started["payment_id"])
    notice = await wechat.provider.query(session, payment)
    assert notice is not None
    assert (notice.paid, notice.amount, notice.currency) == (False, payment.amount, "CNY")
    # a trade WeChat Pay never heard of (ORDER_NOT_EXIST) is None, not an error
    wechat.sim.trades.clear()
    assert await wechat.provider.query(session, payment) is None


async def test_partial_refunds_add_up_and_never_exceed_the_payment(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    # given a paid order
    _order_id, payment = await _paid(wechat, session)
    provider = wechat.provider
    first_amount = payment.amount // 3

    # when two partial refunds are made
    first = await payments_service.refund(
        session,
        payment_id=payment.id,
        amount=first_amount,
        reason="one sleeve too short",
        reference="t1",
    )
    second = await payments_service.refund(
        session,
        payment_id=payment.id,
        amount=payment.amount - first_amount,
        reason="the rest",
        reference="t2",
    )
    await session.commit()
    await wechat.app.state.relay.drain()
    await session.refresh(first)
    await session.refresh(second)
    assert (first.status, second.status) == ("succeeded", "succeeded")

    # then WeChat Pay made both, under our request numbers, and they add up to the payment
    trade = wechat.sim.trade(trade_no({"payment_id": payment.id}))
    assert [(r.out_refund_no, r.amount) for r in trade.refunds] == [
        (first.request_no, first_amount),
        (second.request_no, payment.amount - first_amount),
    ]
    assert [first.provider_refund_no, second.provider_refund_no] == [
        r.refund_id for r in trade.refunds
    ]
    assert trade.state == "REFUND"  # WeChat Pay's word for "refunded in full"

    # and a third, beyond what was paid, is refused before WeChat Pay is asked
    with pytest.raises(RefundExceedsPaid):
        await payments_service.refund(
            session, payment_id=payment.id, amount=1, reason="", reference=""
        )
    await session.rollback()
    await session.refresh(payment)
    await session.refresh(first)
    # WeChat Pay would refuse it too
    beyond = Refund(payment_id=payment.id, request_no="beyond1", amount=1)
    with pytest.raises(ProviderRefused):
        await provider.refund(session, payment, beyond)
    # and a repeated request number is the same refund, made once
    assert await provider.refund(session, payment, first) == first.provider_refund_no
    assert len(trade.refunds) == 2


async def test_cancelling_closes_the_trade_at_wechat_pay(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    order_id, payment = await start_wechat_payment(wechat, scene)
    cancelled = await wechat.client.post(
        f"/api/v1/orders/{order_id}/cancel", headers=scene.shopper_headers
    )
    assert cancelled.status_code == 200, cancelled.text
    # closed by the worker after the cancel committed
    trade = wechat.sim.trade(trade_no(payment))
    assert trade.state == "NOTPAY"
    await wechat.app.state.relay.drain()
    assert trade.state == "CLOSED"
    # the QR can no longer be paid
    assert await wechat.sim.pay(trade_no(payment)) is None
    assert trade.state == "CLOSED"


async def test_a_payment_that_beats_the_close_is_refunded(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    # given a payer who pays at the very moment the shopper's order is cancelled
    scene = await make_scene(session)
    order_id, payment = await start_wechat_payment(wechat, scene)
    number = trade_no(payment)
    wechat.sim.drop_notifications = True
    await wechat.sim.pay(number)
    cancelled = await wechat.client.post(
        f"/api/v1/orders/{order_id}/cancel", headers=scene.shopper_headers
    )
    # the close is refused by WeChat Pay (paid), which does not stop the cancellation
    assert cancelled.status_code == 200, cancelled.text

    # when the notification arrives after all
    assert await wechat.sim.send(number, wechat.sim.notification(number)) == 204

    # then the money is given back in full (by the worker), and the order stays cancelled
    await wechat.app.state.relay.drain()
    trade = wechat.sim.trade(number)
    assert sum(r.amount for r in trade.refunds) == payment["amount"]
    order = await order_of(wechat, scene, order_id)
    assert order["status"] == "cancelled"


async def test_the_daily_bill_lists_payments_and_refunds_with_our_numbers(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    _order_id, payment = await _paid(wechat, session)
    refund = await payments_service.refund(
        session,
        payment_id=payment.id,
        amount=123,
        reason="",
        reference="",
    )
    await session.commit()
    await wechat.app.state.relay.drain()
    trade = wechat.sim.trade(trade_no({"payment_id": payment.id}))

    lines = await wechat.provider.bill(session, utcnow().date())

    mine = [line for line in lines if line.payment_id == payment.id]
    assert [(line.kind, line.amount, line.currency) for line in mine] == [
        ("payment", payment.amount, "CNY"),
        ("refund", 123, "CNY"),
    ]
    assert {line.provider_trade_no for line in mine} == {trade.transaction_id}
    assert mine[1].refund_request_no == refund.request_no
    assert all(line.at.tzinfo is not None for line in mine)
    # a day without trades: WeChat Pay has no statement, and that is an empty bill
    assert await wechat.provider.bill(session, utcnow().date() - timedelta(days=30)) == []


async def test_a_bill_not_ready_yet_is_unavailable(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    await _paid(wechat, session)
    wechat.sim.bills_ready_at_once = False
    with pytest.raises(ProviderUnavailable) as caught:
        await wechat.provider.bill(session, utcnow().date())
    assert caught.value.extra["reason"] == "statement_creating"


async def test_gateway_failures_are_clear_errors_and_change_nothing(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    placed = await wechat.client.post(
        "/api/v1/orders",
        json={
            "store_id": scene.store.id,
            "fulfilment": "pickup",
            "lines": [{"variant_id": scene.variants[0].id, "qty": 1}],
        },
        headers={**scene.shopper_headers, "Idempotency-Key": "k-wechat-down"},
    )
    order_id = placed.json()["id"]
    pay = f"/api/v1/orders/{order_id}/payments"

    async def start() -> tuple[int, dict[str, object]]:
        r = await wechat.client.post(
            pay, json={"provider": "wechat"}, headers=scene.shopper_headers
        )
        return r.status_code, r.json()

    # WeChat Pay answers 500: the shopper is told to try again, nothing was created
    wechat.sim.fail_next = 1
    status, problem = await start()
    assert (status, problem["code"]) == (503, "provider_unavailable")
    # an answer whose signature does not verify is not believed
    wechat.sim.forge_answers = True
    status, problem = await start()
    assert (status, problem["code"]) == (502, "provider_answer_invalid")
    wechat.sim.forge_answers = False
    assert all(t.state == "NOTPAY" for t in wechat.sim.trades.values())
    assert (await order_of(wechat, scene, order_id))["payment_id"] is None
    # and once WeChat Pay is well again, paying works
    status, started = await start()
    assert status == 201
    assert str(started["qr_payload"]).startswith("weixin://")


async def test_the_network_down_and_a_refused_signature(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    _order_id, payment = await _paid(wechat, session)
    config = wechat.provider.config
    # the network: no route to the host
    offline = WechatPayProvider(dataclasses.replace(config, api_base="http://nowhere.invalid"))
    with pytest.raises(ProviderUnavailable):
        await offline.query(session, payment)
    # a merchant serial WeChat Pay does not know: it refuses our signature (401 SIGN_ERROR)
    router = HostRouter({HOST: httpx.ASGITransport(app=wechat.sim.app)})
    wrong = WechatPayProvider(
        dataclasses.replace(config, merchant_serial="0" * 40), transport=router
    )
    with pytest.raises(ProviderRefused) as caught:
        await wrong.query(session, payment)
    assert caught.value.extra["provider_code"] == "SIGN_ERROR"
    # WeChat Pay's answers signed with a key we were not given are not believed
    wechat.sim.platform_serial = "PUB_KEY_ID_0199999999"
    with pytest.raises(ProviderAnswerInvalid):
        await wechat.provider.query(session, payment)


async def test_only_cny_is_charged(wechat: WechatWorld, session: AsyncSession) -> None:
    payment = Payment(
        id=1, provider="wechat", reference="x", amount=100, currency="USD", expires_at=utcnow()
    )
    with pytest.raises(CurrencyNotSupported):
        await wechat.provider.create(session, payment)


async def test_unsigned_answers_are_believed_only_as_failures(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    _order_id, payment = await _paid(wechat, session)

    def gateway(status: int, body: dict[str, str]) -> httpx.MockTransport:
        return httpx.MockTransport(lambda _request: httpx.Response(status, json=body))

    config = wechat.provider.config
    # "not found", unsigned (as a gateway in front of WeChat Pay may answer): no trade
    missing = {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
    quiet = WechatPayProvider(config, transport=gateway(404, missing))
    assert await quiet.query(session, payment) is None
    # a success without WeChat Pay's signature is not believed
    paid = {"out_trade_no": "O2O00000001", "trade_state": "SUCCESS"}
    liar = WechatPayProvider(config, transport=gateway(200, paid))
    with pytest.raises(ProviderAnswerInvalid) as caught:
        await liar.query(session, payment)
    assert caught.value.extra["reason"] == "unsigned_response"
