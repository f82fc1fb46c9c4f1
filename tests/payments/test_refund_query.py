"""A refund answer that may not be final is not taken as a refusal: the refund is queried
first (Alipay ``alipay.trade.fastpay.refund.query``, WeChat Pay ``GET
/v3/refund/domestic/refunds/{out_refund_no}``). Made after all: succeeded. Not made: still
pending for the next try under the same number. A definite refusal: failed at once."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.payments import service as payments_service
from o2o.payments.alipay import AlipayProvider
from o2o.payments.models import Payment, Refund, RefundStatus
from o2o.sandbox.alipay import AlipaySandbox
from o2o.worker.relay import Relay
from tests.payments.test_refund_states import _alipay_paid, _decide, _due_again
from tests.payments.test_wechat_operations import _paid
from tests.payments.wechat_scene import WechatWorld, trade_no

R = RefundStatus


# -- Alipay ------------------------------------------------------------------------------------
async def test_alipay_system_error_after_the_refund_was_made_ends_succeeded(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    # given a paid payment and a refund decided on it
    app, _ = alipay
    payment_id, number = await _alipay_paid(alipay_client, sandbox, session)
    row = await _decide(session, payment_id, 150)

    # when Alipay makes the refund but answers (signed) ACQ.SYSTEM_ERROR
    sandbox.system_errors = 1
    await app.state.relay.drain()

    # then the query found it: succeeded at the first try, made once at Alipay
    await session.refresh(row)
    assert (row.status, row.attempts) == (R.SUCCEEDED, 0)
    trade = sandbox.trade(number)
    assert [(r.out_request_no, r.amount) for r in trade.refunds.values()] == [(row.request_no, 150)]
    assert row.provider_refund_no == f"{trade.trade_no}-{row.request_no}"


async def test_alipay_system_error_before_the_refund_keeps_it_pending_for_the_same_number(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    app, _ = alipay
    relay: Relay = app.state.relay
    payment_id, number = await _alipay_paid(alipay_client, sandbox, session)
    row = await _decide(session, payment_id, 150)

    # when Alipay is down for the refund (503) and the query finds nothing
    sandbox.outage = True
    await relay.drain()
    await session.refresh(row)
    assert (row.status, row.attempts) == (R.PENDING, 1)
    assert "query" in row.last_error
    assert sandbox.trade(number).refunds == {}

    # then the next try, same number, makes it
    sandbox.outage = False
    await _due_again(session)
    await relay.drain()
    await session.refresh(row)
    assert row.status == R.SUCCEEDED
    assert list(sandbox.trade(number).refunds) == [row.request_no]


async def test_an_alipay_definite_refusal_fails_at_once(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    app, _ = alipay
    payment_id, number = await _alipay_paid(alipay_client, sandbox, session)
    row = await _decide(session, payment_id, 150)

    sandbox.refuse_refunds = "ACQ.SELLER_BALANCE_NOT_ENOUGH"
    await app.state.relay.drain()

    await session.refresh(row)
    assert (row.status, row.attempts) == (R.FAILED, 0)
    assert "ACQ.SELLER_BALANCE_NOT_ENOUGH" in row.last_error
    assert sandbox.trade(number).refunds == {}


async def test_the_alipay_refund_query_reads_made_and_not_made(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    session: AsyncSession,
) -> None:
    app, _ = alipay
    provider = app.state.payment_providers.get("alipay")
    assert isinstance(provider, AlipayProvider)
    payment_id, _number = await _alipay_paid(alipay_client, sandbox, session)
    payment = await session.get(Payment, payment_id)
    assert payment is not None
    row = await _decide(session, payment_id, 150)
    assert await provider.query_refund(session, payment, row) is None
    await app.state.relay.drain()
    await session.refresh(row)
    made = await provider.query_refund(session, payment, row)
    assert made == row.provider_refund_no
    # another amount under the same number is not believed
    other = Refund(payment_id=payment_id, request_no=row.request_no, amount=1)
    with pytest.raises(payments_service.ProviderAnswerInvalid):
        await provider.query_refund(session, payment, other)


# -- WeChat Pay ----------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [500, 400])
async def test_wechat_system_error_after_the_refund_was_made_ends_succeeded(
    wechat: WechatWorld, session: AsyncSession, status: int
) -> None:
    # given a paid payment and a refund decided on it
    _order_id, payment = await _paid(wechat, session)
    row = await _decide(session, payment.id, 300)

    # when WeChat Pay makes the refund, then answers SYSTEM_ERROR (a 5xx, or a signed 4xx)
    wechat.sim.fail_after_next, wechat.sim.fail_status = 1, status
    await wechat.app.state.relay.drain()

    # then the query (GET /v3/refund/domestic/refunds/{out_refund_no}) found it
    await session.refresh(row)
    assert (row.status, row.attempts) == (R.SUCCEEDED, 0)
    trade = wechat.sim.trade(trade_no({"payment_id": payment.id}))
    assert [(r.out_refund_no, r.refund_id) for r in trade.refunds] == [
        (row.request_no, row.provider_refund_no)
    ]


async def test_wechat_system_error_before_the_refund_keeps_it_pending(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    _order_id, payment = await _paid(wechat, session)
    row = await _decide(session, payment.id, 300)

    # when WeChat Pay fails before making it (the query then says there is no such refund)
    wechat.sim.fail_next = 1
    await wechat.app.state.relay.drain()

    await session.refresh(row)
    assert (row.status, row.attempts) == (R.PENDING, 1)
    trade = wechat.sim.trade(trade_no({"payment_id": payment.id}))
    assert trade.refunds == []
    await _due_again(session)
    await wechat.app.state.relay.drain()
    await session.refresh(row)
    assert row.status == R.SUCCEEDED
    assert [r.out_refund_no for r in trade.refunds] == [row.request_no]


async def test_a_wechat_definite_refusal_fails_at_once(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    _order_id, payment = await _paid(wechat, session)
    row = await _decide(session, payment.id, 300)

    wechat.sim.refuse_refunds = (403, "NOT_ENOUGH", "基本账户余额不足")
    await wechat.app.state.relay.drain()

    await session.refresh(row)
    assert (row.status, row.attempts) == (R.FAILED, 0)
    assert "NOT_ENOUGH" in row.last_error
    assert wechat.sim.trade(trade_no({"payment_id": payment.id})).refunds == []
