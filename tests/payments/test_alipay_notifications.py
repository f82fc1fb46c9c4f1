"""Alipay notifications: whatever arrives — replayed, duplicated, tampered, for a foreign app,
badly signed, malformed, of the wrong type or size — the order is paid once with the right
amount or not at all, and every rejected notification is logged with its reason."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.payments import service as payments_service
from o2o.sandbox.alipay import AlipaySandbox
from o2o.sandbox.alipay.keys import new_key
from tests.orders.scene import make_scene, place
from tests.payments.alipay_scene import (
    fields,
    logged,
    notify,
    order_of,
    out_trade_no,
    scan_and_pay,
    start,
)


async def test_forged_and_broken_notifications_change_nothing_and_are_logged(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    # given an order whose code the shopper scanned but did not pay
    scene = await make_scene(session)
    placed = (await place(alipay_client, scene)).json()
    payment = await start(alipay_client, scene, placed["id"])
    number = out_trade_no(payment)
    sandbox.scan(number)
    claims_paid = {"trade_status": "TRADE_SUCCESS"}
    genuine_looking = sandbox.notification(number, **claims_paid)
    padding = "x" * 9000

    # when every kind of bad notification claims the trade was paid
    sent = {
        "bad_signature": sandbox.notification(number, key=new_key(), **claims_paid),
        "bad_signature ": sandbox.forge(genuine_looking, total_amount="0.01"),
        "foreign_app": sandbox.notification(number, app_id="2021000000000999", **claims_paid),
        "unsigned": sandbox.forge(genuine_looking, sign=""),
        "unsupported_sign_type": sandbox.forge(genuine_looking, sign_type="RSA"),
        "malformed": b"%zz&&==",
        "malformed ": genuine_looking + b"&trade_status=TRADE_SUCCESS",
        "too_large": sandbox.notification(number, body=padding, **claims_paid),
        "unknown_trade": sandbox.notification(number, out_trade_no="SHOP123", **claims_paid),
        "unknown_payment": sandbox.notification(number, out_trade_no="O2O999999999", **claims_paid),
    }
    answers = {reason: await notify(alipay_client, body) for reason, body in sent.items()}
    wrong_type = await notify(alipay_client, genuine_looking, content_type="application/json")

    # then each is answered "fail" (Alipay will retry, and it will fail again), nothing is paid,
    assert {(r.status_code, r.text) for r in [*answers.values(), wrong_type]} == {(400, "fail")}
    assert (await order_of(alipay_client, scene, placed["id"]))["status"] == "placed"
    # and each one is logged with its reason
    assert await logged(session) == [("rejected", reason.strip()) for reason in sent] + [
        ("rejected", "wrong_content_type")
    ]


async def test_the_genuine_notification_pays_once_whatever_follows(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    # given an order paid in the wallet, the first notification delivered
    scene = await make_scene(session)
    placed = (await place(alipay_client, scene)).json()
    payment = await start(alipay_client, scene, placed["id"])
    number = out_trade_no(payment)
    await scan_and_pay(alipay_client, payment["qr_payload"])
    (first,) = await sandbox.deliver()
    assert first.accepted

    # when it is replayed, sent again as a fresh notification (a new notify_id), and then
    # a signed one with another amount and a tampered copy arrive
    replay = await sandbox.send(first.body)
    fresh = sandbox.notification(number)
    assert fields(fresh)["notify_id"] != fields(first.body)["notify_id"]
    again = await sandbox.send(fresh)
    other_amount = await sandbox.send(sandbox.notification(number, total_amount="0.01"))
    tampered = await sandbox.send(sandbox.forge(first.body, total_amount="0.01"))

    # then the repeats are acknowledged (Alipay stops) and the others refused
    assert (replay.accepted, again.accepted) == (True, True)
    assert (other_amount.status, tampered.status) == (400, 400)
    # and the order was paid once, with the right amount
    order = await order_of(alipay_client, scene, placed["id"])
    assert order["status"] == "paid"
    paid = await payments_service.get_payment(session, payment_id=payment["payment_id"])
    await session.refresh(paid)
    assert (paid.status, paid.amount, paid.refunded) == ("succeeded", placed["total"], 0)
    assert await logged(session) == [
        ("applied", ""),
        ("duplicate", "already_settled"),
        ("duplicate", "already_settled"),
        ("rejected", "amount_mismatch"),
        ("rejected", "bad_signature"),
    ]


async def test_a_notification_that_is_not_acknowledged_is_sent_again(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    # given a paid trade whose first notification finds the platform unreachable
    scene = await make_scene(session)
    placed = (await place(alipay_client, scene)).json()
    payment = await start(alipay_client, scene, placed["id"])
    await sandbox.pay(out_trade_no(payment))
    platform = sandbox.notifier.transport
    sandbox.notifier.transport = httpx.MockTransport(lambda _r: httpx.Response(502, text="down"))
    (lost,) = await sandbox.deliver()
    assert (lost.status, lost.accepted) == (502, False)
    assert (await order_of(alipay_client, scene, placed["id"]))["status"] == "placed"

    # when Alipay tries again and the platform is back
    sandbox.notifier.transport = platform
    (retried,) = await sandbox.deliver()

    # then the same notification pays the order
    assert retried.body == lost.body
    assert retried.accepted
    assert (await order_of(alipay_client, scene, placed["id"]))["status"] == "paid"
