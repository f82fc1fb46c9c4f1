"""WeChat Pay end to end over HTTP, against the simulator: pay by QR, the notification (and
only a genuine, fresh, matching one) makes the order paid, once."""

from __future__ import annotations

import json
import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.payments.models import Payment, PaymentNotification, PaymentStatus
from o2o.sandbox.wechat.notifier import Signed, sign
from o2o.sandbox.wechat.provision import new_key
from tests.orders.scene import make_scene
from tests.payments.wechat_scene import (
    NOTIFY,
    WechatWorld,
    order_of,
    start_wechat_payment,
    trade_no,
)


async def _log(session: AsyncSession, payment_id: int | None = None) -> list[tuple[str, str]]:
    rows = await session.scalars(
        select(PaymentNotification)
        .where(PaymentNotification.provider == "wechat")
        .order_by(PaymentNotification.id)
    )
    return [
        (r.outcome.value, r.reason)
        for r in rows
        if payment_id is None or r.payment_id in (payment_id, None)
    ]


async def test_scan_pay_and_the_notification_makes_the_order_paid(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    # given an order and a WeChat Pay payment for it
    scene = await make_scene(session)
    order_id, payment = await start_wechat_payment(wechat, scene)
    assert payment["provider"] == "wechat"
    assert payment["qr_payload"].startswith("weixin://wxpay/bizpayurl?pr=")
    trade = wechat.sim.trade(trade_no(payment))
    assert (trade.total, trade.currency, trade.state) == (payment["amount"], "CNY", "NOTPAY")
    assert trade.notify_url == "https://shop.example" + NOTIFY
    assert trade.description  # what the payer sees in WeChat

    # when the payer pays in WeChat and WeChat Pay notifies the platform
    delivery = await wechat.sim.pay(trade_no(payment))

    # then the platform acknowledged it at once, and the order is paid with the right amount
    assert delivery is not None
    assert [a.status for a in delivery.attempts] == [204]
    order = await order_of(wechat, scene, order_id)
    assert order["status"] == "paid"
    assert order["pickup_code"] is not None
    paid = await session.get(Payment, payment["payment_id"], populate_existing=True)
    assert paid is not None
    assert (paid.status, paid.amount) == (PaymentStatus.SUCCEEDED, payment["amount"])
    assert paid.provider_trade_no == trade.transaction_id
    assert await _log(session) == [("applied", "")]


async def test_replayed_and_duplicated_notifications_change_nothing(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    order_id, payment = await start_wechat_payment(wechat, scene)
    number = trade_no(payment)
    await wechat.sim.pay(number)
    # the same request again, byte for byte (a replay within the 5 minutes)
    assert await wechat.sim.replay(number) == 204
    # and WeChat Pay's own retry of it (same body, signed afresh)
    again = wechat.sim.deliveries[number]
    assert await wechat.sim.notifier.post(again.trade.notify_url, again.last) == 204  # type: ignore[arg-type]
    duplicate = wechat.sim.notification(number)
    assert await wechat.sim.send(number, duplicate) == 204
    order = await order_of(wechat, scene, order_id)
    assert order["status"] == "paid"
    assert await _log(session) == [
        ("applied", ""),
        ("duplicate", "already_settled"),
        ("duplicate", "already_settled"),
        ("duplicate", "already_settled"),
    ]
    body = json.loads(duplicate.body)
    assert body["event_type"] == "TRANSACTION.SUCCESS"


async def test_forged_stale_tampered_or_foreign_notifications_are_refused_and_logged(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    # given an order whose payer has paid at WeChat Pay (the notification not sent yet)
    scene = await make_scene(session)
    order_id, payment = await start_wechat_payment(wechat, scene)
    number = trade_no(payment)
    sim = wechat.sim
    assert sim.mark_paid(sim.trade(number))
    now = int(time.time())
    genuine = sim.notification(number)
    forger = new_key()

    def resigned(body: bytes) -> Signed:
        return sign(body, sim.platform_key, sim.platform_serial, timestamp=now)

    def with_headers(**headers: str) -> Signed:
        return Signed(genuine.body, {**genuine.headers, **headers})

    cases: list[tuple[str, Signed]] = [
        ("bad_signature", Signed(genuine.body.replace(b"SUCCESS", b"SUCCESs"), genuine.headers)),
        ("bad_signature", sign(genuine.body, forger, sim.platform_serial, timestamp=now)),
        ("stale", sim.notification(number, timestamp=now - 301)),
        ("stale", sim.notification(number, timestamp=now + 400)),
        ("stale", with_headers(**{"Wechatpay-Timestamp": "9" * 5000})),
        ("stale", with_headers(**{"Wechatpay-Timestamp": "1.7e9"})),
        ("unknown_serial", sim.notification(number, serial="PUB_KEY_ID_0000000000000000")),
        ("decrypt_failed", sim.notification(number, tamper_ciphertext=True)),
        ("decrypt_failed", sim.notification(number, apiv3_key=b"k" * 32)),
        ("foreign_merchant", sim.notification(number, changes={"mchid": "1900000001"})),
        ("foreign_app", sim.notification(number, changes={"appid": "wx00000000000000aa"})),
        ("unknown_trade", sim.notification(number, changes={"out_trade_no": "ELSEWHERE-1"})),
        ("unknown_payment", sim.notification(number, changes={"out_trade_no": "O2O99999999"})),
        (
            "amount_mismatch",
            sim.notification(number, changes={"amount": {"total": 1, "currency": "CNY"}}),
        ),
        (
            "amount_mismatch",
            sim.notification(
                number, changes={"amount": {"total": payment["amount"], "currency": "USD"}}
            ),
        ),
        ("malformed", sim.notification(number, changes={"amount": {"total": True}})),
        ("malformed", resigned(b"not json at all")),
        ("malformed", resigned(b'{"id":"EV-1","resource":"none"}')),
        ("unsupported_event", resigned(genuine.body.replace(b'"transaction"', b'"refund"', 1))),
        ("wrong_content_type", with_headers(**{"Content-Type": "text/plain"})),
        ("unsupported_signature", with_headers(**{"Wechatpay-Signature-Type": "HMAC-SHA256"})),
        ("unsigned", Signed(genuine.body, {"Content-Type": "application/json"})),
        ("too_large", resigned(b"{" + b" " * 20_000 + b"}")),
    ]  # fmt: skip

    # when each is delivered to the platform
    for reason, signed in cases:
        response = await wechat.client.post(NOTIFY, content=signed.body, headers=signed.headers)
        # then WeChat Pay hears a failure (it will retry), in its format
        assert response.status_code == 400, (reason, response.status_code)
        assert response.json()["code"] == "FAIL", reason
    oversized = await wechat.client.post(
        NOTIFY, content=b"x" * (65 * 1024), headers=genuine.headers
    )
    assert oversized.status_code == 413

    # and nothing changed but the log, which says why each one was refused
    order = await order_of(wechat, scene, order_id)
    assert order["status"] == "placed"
    expected = [("rejected", reason) for reason, _ in cases] + [("rejected", "too_large")]
    assert await _log(session) == expected

    # while the genuine notification still pays the order, once, with the right amount
    assert await sim.send(number, genuine) == 204
    order = await order_of(wechat, scene, order_id)
    assert order["status"] == "paid"
    paid = await session.get(Payment, payment["payment_id"], populate_existing=True)
    assert paid is not None
    assert (paid.status, paid.amount) == (PaymentStatus.SUCCEEDED, payment["amount"])
    assert (await _log(session))[-1] == ("applied", "")


async def test_a_notification_that_the_trade_is_unpaid_changes_nothing(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    order_id, payment = await start_wechat_payment(wechat, scene)
    number = trade_no(payment)
    assert await wechat.sim.send(number, wechat.sim.notification(number)) == 204
    assert (await order_of(wechat, scene, order_id))["status"] == "placed"
    assert await _log(session) == [("duplicate", "not_paid")]
