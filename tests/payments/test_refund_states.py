"""Refunds made after commit by the worker, keyed by their request number: the state machine,
and the real protocols' simulators losing answers, refusing and coming back."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.outbox_models import OutboxMessage
from o2o.payments import refunds
from o2o.payments import service as payments_service
from o2o.payments.exceptions import RefundNotRetryable
from o2o.payments.models import Refund, RefundStatus
from o2o.sandbox.alipay import AlipaySandbox
from o2o.worker.relay import Relay
from tests.orders.scene import make_scene, place
from tests.payments.alipay_scene import out_trade_no, scan_and_pay, start
from tests.payments.test_wechat_operations import _paid
from tests.payments.wechat_scene import WechatWorld, trade_no

R = RefundStatus


def test_the_refund_state_machine() -> None:
    assert refunds.may_move(R.PENDING, R.SUCCEEDED)
    assert refunds.may_move(R.PENDING, R.FAILED)
    assert refunds.may_move(R.FAILED, R.PENDING)  # an operator's retry
    assert refunds.may_move(R.FAILED, R.SUCCEEDED)  # a late answer of an earlier try
    assert not refunds.may_move(R.PENDING, R.PENDING)
    assert not refunds.may_move(R.SUCCEEDED, R.PENDING)
    assert not refunds.may_move(R.SUCCEEDED, R.FAILED)
    assert not refunds.may_move(R.FAILED, R.FAILED)


async def _due_again(session: AsyncSession) -> None:
    """Skip the back-off: every waiting outbox message is due now."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.processed_at.is_(None))
        .values(available_at=utcnow())
    )
    await session.commit()


async def _alipay_paid(
    client: httpx.AsyncClient, sandbox: AlipaySandbox, session: AsyncSession
) -> tuple[int, str]:
    scene = await make_scene(session)
    placed = (await place(client, scene, lines=[(scene.variants[1].id, 2)])).json()
    payment = await start(client, scene, placed["id"])
    await scan_and_pay(client, str(payment["qr_payload"]))
    assert [d.accepted for d in await sandbox.deliver()] == [True]
    return int(payment["payment_id"]), out_trade_no(payment)


async def _decide(session: AsyncSession, payment_id: int, amount: int) -> Refund:
    row = await payments_service.refund(
        session, payment_id=payment_id, amount=amount, reason="test", reference="t"
    )
    await session.commit()
    assert row.status == R.PENDING
    return row


async def test_an_answer_lost_after_alipay_refunded_is_retried_into_one_refund(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    # given a paid payment and a refund decided on it
    app, _ = alipay
    relay: Relay = app.state.relay
    payment_id, number = await _alipay_paid(alipay_client, sandbox, session)
    row = await _decide(session, payment_id, 150)

    # when Alipay makes the refund but its answer is lost (a timeout), and so is the answer to
    # the refund query that follows (a lone lost answer is settled by that query: see
    # test_refund_query.py)
    sandbox.lose_answers = 2
    await relay.drain()
    await session.refresh(row)

    # then the refund is still pending, the try counted, and Alipay holds it once
    assert (row.status, row.attempts) == (R.PENDING, 1)
    assert row.last_error.startswith("provider_unavailable")
    trade = sandbox.trade(number)
    assert {n: r.amount for n, r in trade.refunds.items()} == {row.request_no: 150}

    # when the worker tries again: the same request number, answered with the same refund
    await _due_again(session)
    await relay.drain()
    await session.refresh(row)
    assert (row.status, row.last_error) == (R.SUCCEEDED, "")
    assert row.provider_refund_no == f"{trade.trade_no}-{row.request_no}"
    assert {n: r.amount for n, r in trade.refunds.items()} == {row.request_no: 150}
    assert trade.refunded == 150
    # and a message handled once more (a crash after the update) changes nothing
    done = await payments_service.carry_out_refund(
        session, providers=app.state.payment_providers, refund_id=row.id
    )
    assert done.status == R.SUCCEEDED
    assert trade.refunded == 150


async def test_a_refund_without_answers_fails_visibly_and_a_retry_makes_it_once(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, _ = alipay
    relay: Relay = app.state.relay
    payment_id, number = await _alipay_paid(alipay_client, sandbox, session)
    row = await _decide(session, payment_id, 99)
    monkeypatch.setattr(refunds, "MAX_ATTEMPTS", 2)

    # when Alipay is down for every try the worker makes
    sandbox.outage = True
    await relay.drain()
    await _due_again(session)
    await relay.drain()

    # then the refund is failed, listed for operators, still counted against the payment
    await session.refresh(row)
    assert (row.status, row.attempts) == (R.FAILED, 2)
    assert row.last_error == "no answer after 2 tries"
    assert [r.id for r in await refunds.with_status(session, status=R.FAILED)] == [row.id]
    payment = await payments_service.get_payment(session, payment_id=payment_id)
    await session.refresh(payment)
    assert payment.refunded == 99
    assert sandbox.trade(number).refunds == {}

    # when an operator retries it once Alipay is back
    sandbox.outage = False
    first_number = row.request_no
    retried = await refunds.retry(session, refund_id=row.id)
    await session.commit()
    assert retried.status == R.PENDING
    await relay.drain()

    # then it is made once, under the number it always had
    await session.refresh(row)
    assert (row.status, row.request_no) == (R.SUCCEEDED, first_number)
    assert {n: r.amount for n, r in sandbox.trade(number).refunds.items()} == {first_number: 99}
    # and only a failed refund can be retried
    with pytest.raises(RefundNotRetryable):
        await refunds.retry(session, refund_id=row.id)


async def test_a_refusal_marks_the_refund_failed(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    app, _ = alipay
    relay: Relay = app.state.relay
    payment_id, number = await _alipay_paid(alipay_client, sandbox, session)
    row = await _decide(session, payment_id, 10)
    # Alipay already gave the whole trade back (an operator refunded it at Alipay's console)
    trade = sandbox.trade(number)
    sandbox.book.refund(
        trade.app_id,
        {
            "out_trade_no": number,
            "refund_amount": f"{trade.amount / 100:.2f}",
            "out_request_no": "x",
        },
        utcnow(),
    )

    await relay.drain()

    await session.refresh(row)
    assert row.status == R.FAILED
    assert row.last_error.startswith("provider_refused")
    assert row.attempts == 0


async def test_an_unverifiable_wechat_answer_is_retried_with_the_same_out_refund_no(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    # given a paid payment and a refund decided on it
    _order_id, payment = await _paid(wechat, session)
    relay: Relay = wechat.app.state.relay
    row = await _decide(session, payment.id, 300)

    # when WeChat Pay makes it but its answer cannot be verified
    wechat.sim.forge_answers = True
    await relay.drain()
    await session.refresh(row)
    assert (row.status, row.attempts) == (R.PENDING, 1)
    trade = wechat.sim.trade(trade_no({"payment_id": payment.id}))
    assert [(r.out_refund_no, r.amount) for r in trade.refunds] == [(row.request_no, 300)]

    # then the next try, with the same out_refund_no, converges on that one refund
    wechat.sim.forge_answers = False
    await _due_again(session)
    await relay.drain()
    await session.refresh(row)
    assert row.status == R.SUCCEEDED
    assert [(r.out_refund_no, r.refund_id) for r in trade.refunds] == [
        (row.request_no, row.provider_refund_no)
    ]
