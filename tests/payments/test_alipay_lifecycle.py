"""Alipay after the QR: the query for a notification that never came, partial refunds, close
on cancel (and a code paid after its order was cancelled), and the daily bill."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.outbox_models import OutboxMessage
from o2o.payments import service as payments_service
from o2o.payments.exceptions import ProviderRefused, RefundExceedsPaid
from o2o.payments.models import Payment, Refund
from o2o.sandbox.alipay import AlipaySandbox
from o2o.worker.relay import Relay
from tests.orders.scene import OrderScene, make_scene, place
from tests.payments.alipay_scene import logged, order_of, out_trade_no, scan_and_pay, start


async def _paid_order(
    client: httpx.AsyncClient, sandbox: AlipaySandbox, scene: OrderScene, qty: int = 2
) -> tuple[dict[str, object], dict[str, object]]:
    placed = (await place(client, scene, lines=[(scene.variants[1].id, qty)])).json()
    payment = await start(client, scene, placed["id"])
    await scan_and_pay(client, str(payment["qr_payload"]))
    assert [d.accepted for d in await sandbox.deliver()] == [True]
    return placed, payment


async def test_a_lost_notification_is_made_up_for_by_the_query(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    # given two pending payments a few minutes old: one paid at Alipay (its notification
    # lost), one whose code nobody scanned (Alipay knows no trade for it)
    app, _ = alipay
    scene = await make_scene(session)
    paid_order = (await place(alipay_client, scene)).json()
    paid = await start(alipay_client, scene, paid_order["id"])
    await sandbox.pay(out_trade_no(paid))
    sandbox.notifier.owed.clear()  # lost
    idle_order = (await place(alipay_client, scene)).json()
    idle = await start(alipay_client, scene, idle_order["id"])
    await session.execute(
        update(Payment)
        .where(Payment.id.in_([paid["payment_id"], idle["payment_id"]]))
        .values(created_at=utcnow() - timedelta(minutes=5))
    )
    await session.commit()

    # when the reconcile timer runs
    relay: Relay = app.state.relay
    assert (await relay.run_timers(force=True))["reconcile_payments"] == 1

    # then the paid one is settled from a query and the other left waiting
    assert (await order_of(alipay_client, scene, paid_order["id"]))["status"] == "paid"
    assert (await order_of(alipay_client, scene, idle_order["id"]))["status"] == "placed"
    provider = app.state.payment_providers.get("alipay")
    assert await provider.query(session, await session.get(Payment, idle["payment_id"])) is None
    sandbox.scan(out_trade_no(idle))
    waiting = await provider.query(session, await session.get(Payment, idle["payment_id"]))
    assert waiting is not None
    assert (waiting.paid, waiting.amount) == (False, idle_order["total"])


async def test_an_alipay_outage_does_not_stall_the_other_payments_reconciliation(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    # given an Alipay payment (first in line) while Alipay is down, and a demo wallet
    # payment whose notification was lost
    app, _ = alipay
    scene = await make_scene(session)
    first = (await place(alipay_client, scene)).json()
    waiting = await start(alipay_client, scene, first["id"])
    second = (await place(alipay_client, scene)).json()
    demo = (
        await alipay_client.post(
            f"/api/v1/orders/{second['id']}/payments",
            json={"provider": "demo"},
            headers=scene.shopper_headers,
        )
    ).json()
    confirmed = await alipay_client.post(
        f"/api/v1/payments/demo/{demo['payment_id']}/confirm",
        json={"token": demo["qr_payload"].split("t=")[1]},
    )
    assert confirmed.status_code == 200
    await session.execute(
        delete(OutboxMessage).where(OutboxMessage.topic == "payments.demo.notify")
    )
    await session.execute(
        update(Payment)
        .where(Payment.id.in_([waiting["payment_id"], demo["payment_id"]]))
        .values(created_at=utcnow() - timedelta(minutes=5))
    )
    await session.commit()
    sandbox.outage = True

    # when the reconcile timer runs, the demo payment is still settled
    relay: Relay = app.state.relay
    assert (await relay.run_timers(force=True))["reconcile_payments"] == 1
    assert (await order_of(alipay_client, scene, second["id"]))["status"] == "paid"
    assert (await order_of(alipay_client, scene, first["id"]))["status"] == "placed"


async def test_partial_refunds_add_up_and_never_pass_what_was_paid(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    # given a paid order
    app, _ = alipay
    scene = await make_scene(session)
    placed, payment = await _paid_order(alipay_client, sandbox, scene)
    total, payment_id = int(str(placed["total"])), int(str(payment["payment_id"]))
    provider = app.state.payment_providers.get("alipay")

    async def refund(amount: int) -> Refund:
        return await payments_service.refund(
            session,
            payment_id=payment_id,
            amount=amount,
            reason="test",
            reference="t",
        )

    # when two partial refunds are made
    first, second = await refund(100), await refund(total - 101)
    await session.commit()
    assert (first.status, second.status) == ("pending", "pending")
    # and the worker makes them at Alipay
    assert await app.state.relay.drain() >= 2
    await session.refresh(first)
    await session.refresh(second)
    assert (first.status, second.status) == ("succeeded", "succeeded")

    # then they add up, at Alipay and here, each under its own request number
    trade = sandbox.trade(out_trade_no(payment))
    assert sorted(r.amount for r in trade.refunds.values()) == sorted([100, total - 101])
    assert set(trade.refunds) == {first.request_no, second.request_no}
    assert first.provider_refund_no == f"{trade.trade_no}-{first.request_no}"
    # and a third beyond what is left is refused here, before Alipay is asked
    with pytest.raises(RefundExceedsPaid) as refused:
        await refund(2)
    assert refused.value.extra == {"refundable": 1}  # nothing was written: go on
    # and Alipay refuses it too, if asked (ACQ.REFUND_AMT_NOT_EQUAL_TOTAL)
    paid = await payments_service.get_payment(session, payment_id=payment_id)
    beyond = Refund(payment_id=payment_id, request_no="r3", amount=2, reason="", reference="")
    with pytest.raises(ProviderRefused) as at_alipay:
        await provider.refund(session, paid, beyond)
    assert at_alipay.value.extra["sub_code"] == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    # and a retried request number is made once
    assert await provider.refund(session, paid, first) == first.provider_refund_no
    assert trade.refunded == total - 1
    # and Alipay's refund notifications (TRADE_SUCCESS with refund_fee) change nothing
    assert [d.accepted for d in await sandbox.deliver()] == [True, True]
    await session.refresh(paid)
    assert (paid.status, paid.refunded) == ("succeeded", total - 1)
    assert [o for o, _ in await logged(session)] == ["applied", "duplicate", "duplicate"]


async def test_cancelling_closes_the_trade_and_a_late_payment_is_refunded(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    app, _ = alipay
    scene = await make_scene(session)

    # given a code scanned but not paid: cancelling the order closes Alipay's trade
    scanned = (await place(alipay_client, scene)).json()
    payment = await start(alipay_client, scene, scanned["id"])
    sandbox.scan(out_trade_no(payment))
    cancel = await alipay_client.post(
        f"/api/v1/orders/{scanned['id']}/cancel", headers=scene.shopper_headers
    )
    assert cancel.status_code == 200, cancel.text
    # the worker closes it after the cancel committed (the cancel never waits on Alipay)
    assert sandbox.trade(out_trade_no(payment)).status == "WAIT_BUYER_PAY"
    assert await app.state.relay.drain() >= 1
    assert sandbox.trade(out_trade_no(payment)).status == "TRADE_CLOSED"
    wallet = await alipay_client.post(
        f"/sandbox/alipay/qr/{sandbox.trade(out_trade_no(payment)).code}/pay"
    )
    assert wallet.status_code == 303
    assert await sandbox.deliver() == []  # nothing paid, nothing notified

    # given a code nobody scanned: Alipay has no trade to close ("trade not exist"), so the
    # cancel succeeds, and the code stays payable until it expires
    idle = (await place(alipay_client, scene)).json()
    late = await start(alipay_client, scene, idle["id"])
    cancel = await alipay_client.post(
        f"/api/v1/orders/{idle['id']}/cancel", headers=scene.shopper_headers
    )
    assert cancel.status_code == 200, cancel.text
    closed = await payments_service.get_payment(session, payment_id=late["payment_id"])
    await session.refresh(closed)
    assert closed.status == "closed"

    # when the shopper pays that code anyway
    await scan_and_pay(alipay_client, late["qr_payload"])
    assert [d.accepted for d in await sandbox.deliver()] == [True]

    # then the money is recorded and given back at once; the order stays cancelled
    await session.refresh(closed)
    assert (closed.status, closed.refunded) == ("succeeded", idle["total"])
    await app.state.relay.drain()  # the worker makes the refund at Alipay
    assert sandbox.trade(out_trade_no(late)).refunded == idle["total"]
    assert (await order_of(alipay_client, scene, idle["id"]))["status"] == "cancelled"


async def test_the_bill_of_a_day_lists_payments_and_refunds_with_our_numbers(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    # given a paid order, partly refunded
    app, _ = alipay
    scene = await make_scene(session)
    placed, payment = await _paid_order(alipay_client, sandbox, scene)
    provider = app.state.payment_providers.get("alipay")
    refund = await payments_service.refund(
        session,
        payment_id=int(str(payment["payment_id"])),
        amount=150,
        reason="test",
        reference="t",
    )
    await session.commit()
    await app.state.relay.drain()

    # when today's bill (UTC) is read: two Beijing-day bills downloaded and cut to the day
    lines = await provider.bill(session, utcnow().date())

    # then it lists the payment and the refund, mapped to our payment and request number
    trade = sandbox.trade(out_trade_no(payment))
    assert [
        (line.kind, line.payment_id, line.provider_trade_no, line.amount, line.refund_request_no)
        for line in lines
    ] == [
        ("payment", payment["payment_id"], trade.trade_no, placed["total"], None),
        ("refund", payment["payment_id"], trade.trade_no, 150, refund.request_no),
    ]
    assert all(line.currency == "CNY" and line.at.tzinfo is not None for line in lines)
    # and a day without trades lists nothing
    assert await provider.bill(session, utcnow().date() - timedelta(days=400)) == []
