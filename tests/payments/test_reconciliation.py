"""The daily reconciliation through the Alipay and WeChat Pay simulators: pay and refund for
real, the books and the bill agree; then one side is changed and exactly that is listed."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.ledger import service as ledger_service
from o2o.orders import service as orders_service
from o2o.orders.models import Order
from o2o.orders.reconcile_compare import DifferenceKind, Report
from o2o.orders.reconciliation import CHINA, reconcile
from o2o.payments.models import Payment, PaymentStatus
from o2o.payments.service import Providers
from o2o.sandbox.alipay import AlipaySandbox
from o2o.sandbox.wechat.books import RefundRecord
from o2o.worker.relay import Relay
from tests.orders.scene import make_scene, place
from tests.payments.alipay_scene import out_trade_no, scan_and_pay, start
from tests.payments.wechat_scene import WechatWorld, start_wechat_payment, trade_no


def china_today() -> date:
    return utcnow().astimezone(CHINA).date()


def differences(report: Report) -> list[tuple[DifferenceKind, str, int, int | None, int | None]]:
    return [(d.kind, d.movement, d.payment_id, d.ours, d.theirs) for d in report.differences]


async def refund_order(session: AsyncSession, app: FastAPI, order_id: int, amount: int) -> None:
    """A refund as the platform makes one: decided with the payments table and the ledger,
    then made at the provider by the worker."""
    providers: Providers = app.state.payment_providers
    order = await session.get(Order, order_id)
    assert order is not None
    await session.refresh(order)
    done = await orders_service.refund(
        session, order, providers=providers, reason="test", amount=amount
    )
    assert done is not None
    await session.commit()
    relay: Relay = app.state.relay
    await relay.drain()


async def test_alipay_books_and_bill_agree_then_each_change_is_listed(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    # given an order paid with Alipay and partly refunded
    app, _ = alipay
    providers: Providers = app.state.payment_providers
    scene = await make_scene(session)
    placed = (await place(alipay_client, scene, lines=[(scene.variants[1].id, 2)])).json()
    payment = await start(alipay_client, scene, placed["id"])
    await scan_and_pay(alipay_client, str(payment["qr_payload"]))
    assert [d.accepted for d in await sandbox.deliver()] == [True]
    await refund_order(session, app, placed["id"], 150)
    alipay_provider = providers.get("alipay")

    # when today's (China) books are reconciled with Alipay's bill: all agree
    report = await reconcile(session, provider=alipay_provider, day=china_today())
    assert report.differences == []
    assert report.matched == 2
    cny = report.ours["CNY"]
    assert (cny.payments, cny.payments_amount, cny.refunds, cny.refunds_amount) == (
        1,
        placed["total"],
        1,
        150,
    )
    assert report.theirs == report.ours
    assert report.timezone == "Asia/Shanghai"
    assert report.end - report.start == timedelta(days=1)

    # when Alipay's trade says another amount, and our books hold a capture Alipay never saw
    sandbox.trade(out_trade_no(payment)).amount += 1
    now = utcnow()
    ghost = Payment(
        provider="alipay",
        reference="ghost",
        amount=999,
        currency="CNY",
        status=PaymentStatus.SUCCEEDED,
        expires_at=now,
        paid_at=now,
    )
    session.add(ghost)
    await session.flush()
    await ledger_service.record_capture(
        session,
        payment_id=ghost.id,
        provider="alipay",
        amount=999,
        currency="CNY",
        occurred_at=now,
        sold=[],
        unhonoured=[],
        default_bps=0,
    )
    await session.commit()
    report = await reconcile(session, provider=alipay_provider, day=china_today())

    # then exactly those two are listed, and the refund still matches
    assert differences(report) == [
        (
            DifferenceKind.AMOUNT,
            "payment",
            payment["payment_id"],
            placed["total"],
            placed["total"] + 1,
        ),
        (DifferenceKind.MISSING_AT_PROVIDER, "payment", ghost.id, 999, None),
    ]
    assert report.matched == 1


async def test_wechat_books_and_bill_agree_then_each_change_is_listed(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    # given an order paid with WeChat Pay and partly refunded
    scene = await make_scene(session)
    order_id, started = await start_wechat_payment(wechat, scene)
    await wechat.sim.pay(trade_no(started))
    await refund_order(session, wechat.app, order_id, 123)
    paid = await session.get(Payment, started["payment_id"])
    assert paid is not None
    await session.refresh(paid)

    # when today's books are reconciled with WeChat Pay's bill: all agree
    report = await reconcile(session, provider=wechat.provider, day=china_today())
    assert report.differences == []
    assert report.matched == 2
    assert (report.theirs["CNY"].net, report.ours["CNY"].net) == (paid.amount - 123,) * 2

    # when a shopper pays a code whose notification never reaches us, and WeChat Pay lists
    # a refund of the first payment that we never asked for
    _late_order, late = await start_wechat_payment(wechat, scene)
    await wechat.sim.pay(trade_no(late), notify=False)
    wechat.sim.trade(trade_no(started)).refunds.append(
        RefundRecord(out_refund_no="R-unknown", refund_id="5030x", amount=7, created_at=utcnow())
    )
    report = await reconcile(session, provider=wechat.provider, day=china_today())

    # then the first is a status difference (pending here, paid there), the second unknown
    assert differences(report) == [
        (DifferenceKind.MISSING_IN_BOOKS, "refund", paid.id, None, 7),
        (DifferenceKind.STATUS, "payment", late["payment_id"], late["amount"], late["amount"]),
    ]
    assert report.differences[1].ours_status == "pending"
    assert report.differences[0].request_no == "R-unknown"
    assert report.matched == 2


async def test_a_day_without_trades_reconciles_with_nothing_on_either_side(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    report = await reconcile(
        session, provider=wechat.provider, day=china_today() - timedelta(days=20)
    )
    assert (report.differences, report.matched, report.ours, report.theirs) == ([], 0, {}, {})
