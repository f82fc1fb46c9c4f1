"""The installation's prefix of every number sent to a provider (``O2O_TRADE_NO_PREFIX``):
two installations on one merchant account never send the same number, and a number with
another installation's prefix is refused like any unknown trade number."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.bootstrap import create_app
from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.payments import numbers, refunds
from o2o.payments.alipay import codec
from o2o.payments.models import Payment
from o2o.payments.wechat import trade_no
from o2o.sandbox.alipay import AlipaySandbox
from tests.orders.scene import make_scene, pay, place
from tests.payments.alipay_scene import alipay_settings, logged, notify, start
from tests.payments.wechat_scene import WechatWorld, order_of, start_wechat_payment

MAX_ID = 2**63 - 1


@pytest.mark.parametrize("prefix", ["O2O", "a", "STG1A", "ABCDEFGH", "p"])
def test_a_prefix_of_letters_and_digits_ending_in_a_letter_is_taken(prefix: str) -> None:
    assert Settings(trade_no_prefix=prefix).trade_no_prefix == prefix


@pytest.mark.parametrize("prefix", ["", "ABCDEFGHI", "A1", "STG-", "O2O_", "支付", "A B"])
def test_any_other_prefix_stops_start_up_saying_what_to_use(prefix: str) -> None:
    with pytest.raises(ValidationError, match="1 to 8 letters and digits"):
        Settings(trade_no_prefix=prefix)


def test_the_default_keeps_the_numbers_as_they_were() -> None:
    assert Settings().trade_no_prefix == numbers.DEFAULT_PREFIX == "O2O"
    assert codec.out_trade_no(42) == "O2O42"
    assert trade_no.out_trade_no(42) == "O2O00000042"


def test_wechat_numbers_carry_the_prefix_and_map_back_only_with_it() -> None:
    number = trade_no.out_trade_no(7, "STG")
    assert number == "STG00000007"
    assert trade_no.payment_id_of(number, "STG") == 7
    # another installation's number (or the default one's) is not ours
    assert trade_no.payment_id_of(number, "O2O") is None
    assert trade_no.payment_id_of("O2O00000007", "STG") is None
    # a prefix that is another's start cannot claim its numbers: it ends in a letter
    assert trade_no.payment_id_of("STGB00000007", "STG") is None
    # the longest prefix with the largest id stays within WeChat Pay's 32 characters
    longest = trade_no.out_trade_no(MAX_ID, "ABCDEFGH")
    assert len(longest) <= trade_no.MAX_LENGTH
    assert trade_no.payment_id_of(longest, "ABCDEFGH") == MAX_ID


def test_alipay_numbers_carry_the_prefix_and_map_back_only_with_it() -> None:
    number = codec.out_trade_no(7, "STG")
    assert number == "STG7"
    assert codec.payment_id_of(number, "STG") == 7
    assert codec.payment_id_of(number, "O2O") is None
    assert codec.payment_id_of("O2O7", "STG") is None
    longest = codec.out_trade_no(MAX_ID, "ABCDEFGH")
    assert len(longest) <= codec.MAX_NUMBER
    assert codec.payment_id_of(longest, "ABCDEFGH") == MAX_ID


def test_refund_numbers_carry_the_prefix_and_fit_every_provider() -> None:
    made = {numbers.refund_number("STG1A") for _ in range(50)}
    assert len(made) == 50
    for number in made:
        assert number.startswith("STG1AR")
        assert len(number) <= 64
        assert number.isalnum()


async def test_a_refund_is_numbered_with_the_installations_prefix(
    settings: Settings, database: Database, session: AsyncSession
) -> None:
    app = create_app(settings.model_copy(update={"trade_no_prefix": "STG"}), database=database)
    scene = await make_scene(session)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        placed = await place(client, scene)
        order = await pay(client, app, scene, placed.json()["id"])
        cancelled = await client.post(
            f"/api/v1/orders/{order['id']}/cancel",
            json={"reason": "changed my mind"},
            headers=scene.shopper_headers,
        )
    assert cancelled.status_code == 200, cancelled.text
    [refund] = await refunds.with_status(session, status=refunds.R.PENDING)
    assert refund.request_no.startswith("STGR")


async def test_wechat_trade_numbers_use_the_prefix_and_refuse_another_installations(
    wechat: WechatWorld, session: AsyncSession
) -> None:
    # given the platform configured with its own prefix
    provider = wechat.provider
    object.__setattr__(provider.config, "trade_no_prefix", "STG")
    scene = await make_scene(session)

    # when a shopper starts paying
    order_id, payment = await start_wechat_payment(wechat, scene)

    # then WeChat Pay's trade is under the prefixed number
    number = trade_no.out_trade_no(payment["payment_id"], "STG")
    trade = wechat.sim.trade(number)
    assert trade.total == payment["amount"]

    # and a paid notification for the same payment id under another installation's prefix
    # (genuine, signed by WeChat Pay) is refused as not ours and logged; the order stays unpaid
    assert wechat.sim.mark_paid(trade)
    foreign = trade_no.out_trade_no(payment["payment_id"], "O2O")
    sent = wechat.sim.notification(number, changes={"out_trade_no": foreign})
    answer = await wechat.client.post(
        "/api/v1/payments/wechat/notify", content=sent.body, headers=sent.headers
    )
    assert answer.status_code == 400
    assert (await order_of(wechat, scene, order_id))["status"] == "placed"
    ours = wechat.sim.notification(number)
    answer = await wechat.client.post(
        "/api/v1/payments/wechat/notify", content=ours.body, headers=ours.headers
    )
    assert answer.status_code == 204
    assert (await order_of(wechat, scene, order_id))["status"] == "paid"


async def test_alipay_trade_numbers_use_the_prefix_and_refuse_another_installations(
    settings: Settings, database: Database, session: AsyncSession
) -> None:
    app: FastAPI = create_app(alipay_settings(settings, trade_no_prefix="PRODA"), database=database)
    sandbox: AlipaySandbox = app.state.alipay_sandbox
    sandbox.auto_notify = False
    scene = await make_scene(session)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        placed = (await place(client, scene)).json()
        payment = await start(client, scene, placed["id"])
        number = f"PRODA{payment['payment_id']}"
        trade = sandbox.scan(number)
        assert trade.amount == payment["amount"]
        await sandbox.pay(number)
        # the staging installation's number for the same payment id: not ours
        foreign = sandbox.notification(number, out_trade_no=f"O2O{payment['payment_id']}")
        assert (await notify(client, foreign)).text == "fail"
        row = await session.get(Payment, payment["payment_id"], populate_existing=True)
        assert row is not None
        assert row.status == "pending"
        assert (await notify(client, sandbox.notification(number))).text == "success"
    assert await logged(session) == [("rejected", "unknown_trade"), ("applied", "")]
