"""When Alipay cannot be reached, answers with a failure, or an answer is not Alipay's: the
shopper gets a clear 5xx problem (never a 500), the attempt is recorded failed and the order
is free to be paid again; a currency Alipay does not take is refused before it is asked."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.outbox_models import OutboxMessage
from o2o.payments.alipay import AlipayProvider
from o2o.payments.alipay.config import AlipayConfig
from o2o.payments.exceptions import CurrencyNotSupported, ProviderRefused
from o2o.payments.models import Payment, PaymentStatus
from o2o.payments.service import CLOSE_TOPIC, Providers
from o2o.sandbox.alipay import AlipaySandbox
from o2o.sandbox.alipay.keys import new_key
from tests.orders.scene import make_scene, place


def _refused(_request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused")


def _forged(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        text='{"alipay_trade_precreate_response":{"code":"10000","msg":"Success",'
        '"out_trade_no":"O2O1","qr_code":"https://evil.example/"},"sign":"AAAA"}',
    )


@pytest.mark.parametrize(
    ("network", "status", "code"),
    [
        (httpx.MockTransport(_refused), 503, "provider_unavailable"),
        (
            httpx.MockTransport(lambda _r: httpx.Response(502, text="Bad Gateway")),
            503,
            "provider_unavailable",
        ),
        (httpx.MockTransport(_forged), 502, "provider_answer_invalid"),
    ],
)
async def test_an_unreachable_or_forged_gateway_answers_a_problem_and_the_attempt_fails(
    alipay: tuple[FastAPI, AlipaySandbox],
    alipay_client: httpx.AsyncClient,
    session: AsyncSession,
    network: httpx.AsyncBaseTransport,
    status: int,
    code: str,
) -> None:
    app, _ = alipay
    provider = app.state.payment_providers.get("alipay")
    app.state.payment_providers = Providers(AlipayProvider(provider.config, transport=network))
    scene = await make_scene(session)
    placed = (await place(alipay_client, scene)).json()
    started = await alipay_client.post(
        f"/api/v1/orders/{placed['id']}/payments",
        json={"provider": "alipay"},
        headers=scene.shopper_headers,
    )

    assert started.status_code == status, started.text
    assert started.headers["content-type"] == "application/problem+json"
    assert started.json()["code"] == code
    [attempt] = list(
        await session.scalars(select(Payment).execution_options(populate_existing=True))
    )
    assert (attempt.status, attempt.qr_payload) == (PaymentStatus.FAILED, "")
    # Alipay may have opened the trade before the answer was lost: its close is queued
    closes = await session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.topic == CLOSE_TOPIC, OutboxMessage.processed_at.is_(None))
    )
    assert closes == 1
    order = await alipay_client.get(f"/api/v1/orders/{placed['id']}", headers=scene.shopper_headers)
    assert (order.json()["status"], order.json()["payment_id"]) == ("placed", None)


@pytest.fixture(scope="module")
def lone_sandbox() -> AlipaySandbox:
    """A sandbox on its own (no platform, no database), knowing one application."""
    sandbox = AlipaySandbox(base_url="http://alipay.test", auto_notify=False)
    sandbox.register_app("9021000000000001", new_key().public_key())
    return sandbox


async def test_alipay_refusing_a_precreate_is_a_provider_refusal_with_its_sub_code(
    lone_sandbox: AlipaySandbox,
) -> None:
    sandbox = lone_sandbox
    config = AlipayConfig(
        app_id="9021000000000001",
        private_key=new_key(),  # not the key the sandbox knows for this app
        alipay_public_key=sandbox.public_key,
        gateway=sandbox.gateway_url,
        notify_url="http://test/api/v1/payments/alipay/notify",
    )
    provider = AlipayProvider(config, transport=sandbox.transport())
    payment = Payment(
        id=1, provider="alipay", reference="r", amount=100, currency="CNY", expires_at=utcnow()
    )
    with pytest.raises(ProviderRefused) as refused:
        await provider.create(None, payment)  # type: ignore[arg-type]
    assert refused.value.extra["sub_code"] == "isv.invalid-signature"


async def test_a_currency_other_than_cny_is_refused_before_alipay_is_asked(
    lone_sandbox: AlipaySandbox,
) -> None:
    sandbox = lone_sandbox
    config = AlipayConfig(
        app_id="9021000000000001",
        private_key=new_key(),
        alipay_public_key=sandbox.public_key,
        gateway=sandbox.gateway_url,
        notify_url="http://test/n",
    )
    provider = AlipayProvider(config, transport=httpx.MockTransport(_refused))
    payment = Payment(
        id=1,
        provider="alipay",
        reference="r",
        amount=100,
        currency="USD",
        expires_at=utcnow() + timedelta(minutes=10),
    )
    with pytest.raises(CurrencyNotSupported, match="CNY only") as refused:
        await provider.create(None, payment)  # type: ignore[arg-type]
    assert (refused.value.status, refused.value.code) == (422, "currency_not_supported")
