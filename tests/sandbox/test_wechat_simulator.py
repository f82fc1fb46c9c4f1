"""The WeChat Pay simulator behaves as WeChat Pay: it refuses requests not signed by the
merchant (401 SIGN_ERROR, unsigned), signs every other answer, keeps its trades' rules, and
notifies on its retry schedule, signing each attempt afresh."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from o2o.payments.wechat import crypto
from o2o.sandbox.wechat import Merchant, WechatPaySimulator
from o2o.sandbox.wechat.notifier import REAL_SCHEDULE, compressed

Keys = tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
MCHID, APPID, SERIAL = "1900000109", "wxd678efh567hg6787", "5157F09EFDC096DE15EBE81A47057A72"
NATIVE = "/v3/pay/transactions/native"


def _sim(keys: Keys, **options: Any) -> WechatPaySimulator:
    merchant = Merchant(MCHID, APPID, SERIAL, keys[0].public_key(), b"a" * 32)
    return WechatPaySimulator(
        platform_key=keys[1], platform_serial="PUB_KEY_ID_01", merchants=[merchant], **options
    )


async def _call(
    sim: WechatPaySimulator,
    keys: Keys,
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    *,
    serial: str = SERIAL,
    timestamp: int | None = None,
    key: rsa.RSAPrivateKey | None = None,
    authorization: str | None = None,
) -> httpx.Response:
    text = "" if body is None else json.dumps(body)
    header = authorization or crypto.authorization(
        mchid=MCHID,
        serial=serial,
        private_key=key or keys[0],
        method=method,
        url=url,
        body=text,
        timestamp=str(int(time.time()) if timestamp is None else timestamp),
        nonce="n0nce",
    )
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://wx.test") as client:
        return await client.request(
            method,
            url,
            content=text.encode(),
            headers={"Authorization": header, "Content-Type": "application/json"},
        )


def _verified(sim: WechatPaySimulator, response: httpx.Response) -> bool:
    h = response.headers
    message = crypto.response_message(
        h["wechatpay-timestamp"], h["wechatpay-nonce"], response.content
    )
    return h["wechatpay-serial"] == sim.platform_serial and crypto.signature_ok(
        sim.platform_key.public_key(), message, h["wechatpay-signature"]
    )


def _order(no: str = "O2O00000007", total: int = 100, **extra: Any) -> dict[str, Any]:
    return {
        "appid": APPID,
        "mchid": MCHID,
        "description": "T-shirt",
        "out_trade_no": no,
        "notify_url": "https://shop.example/notify",
        "amount": {"total": total, "currency": "CNY"},
        **extra,
    }


async def test_requests_not_signed_by_the_merchant_are_refused(wechat_keys: Keys) -> None:
    sim = _sim(wechat_keys)
    forger = wechat_keys[1]  # any key but the merchant's
    refused = [
        await _call(sim, wechat_keys, "POST", NATIVE, _order(), authorization="Basic x"),
        await _call(sim, wechat_keys, "POST", NATIVE, _order(), serial="0" * 32),
        await _call(sim, wechat_keys, "POST", NATIVE, _order(), key=forger),
        await _call(sim, wechat_keys, "POST", NATIVE, _order(), timestamp=int(time.time()) - 600),
    ]
    for response in refused:
        assert response.status_code == 401
        assert response.json()["code"] == "SIGN_ERROR"
        # a request it cannot authenticate gets an unsigned answer
        assert "wechatpay-signature" not in response.headers
    assert sim.trades == {}
    ok = await _call(sim, wechat_keys, "POST", NATIVE, _order())
    assert ok.status_code == 200
    assert _verified(sim, ok)
    assert ok.json()["code_url"].startswith("weixin://wxpay/bizpayurl?pr=")


async def test_trades_follow_wechat_pay_rules(wechat_keys: Keys) -> None:
    sim = _sim(wechat_keys, page_base="http://127.0.0.1:8000/sandbox/wechat")
    first = (await _call(sim, wechat_keys, "POST", NATIVE, _order())).json()
    assert first["code_url"].startswith("http://127.0.0.1:8000/sandbox/wechat/pay/")
    # the same order again is the same QR; another amount under that number is refused
    again = await _call(sim, wechat_keys, "POST", NATIVE, _order())
    assert again.json() == first
    other = await _call(sim, wechat_keys, "POST", NATIVE, _order(total=200))
    assert (other.status_code, other.json()["code"]) == (403, "OUT_TRADE_NO_USED")
    for bad in (
        _order(no="short"),
        _order(total=0),
        _order(appid="wx0000000000000000"),
        {**_order(), "amount": {"total": 1, "currency": "USD"}},
    ):
        assert (await _call(sim, wechat_keys, "POST", NATIVE, bad)).status_code == 400
    # a trade past its time_expire can no longer be paid: WeChat Pay closes it
    gone = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    await _call(sim, wechat_keys, "POST", NATIVE, _order(no="O2O00000008", time_expire=gone))
    assert await sim.pay("O2O00000008") is None
    query = "/v3/pay/transactions/out-trade-no/O2O00000008?mchid=" + MCHID
    assert (await _call(sim, wechat_keys, "GET", query)).json()["trade_state"] == "CLOSED"
    missing = await _call(sim, wechat_keys, "GET", query.replace("08?", "09?"))
    assert (missing.status_code, missing.json()["code"]) == (404, "ORDER_NOT_EXIST")


async def test_refunds_are_made_once_per_number_and_never_beyond_the_trade(
    wechat_keys: Keys,
) -> None:
    sim = _sim(wechat_keys, notify_transport=httpx.MockTransport(lambda _r: httpx.Response(204)))
    await _call(sim, wechat_keys, "POST", NATIVE, _order(total=100))
    await sim.pay("O2O00000007")
    url = "/v3/refund/domestic/refunds"

    def refund(no: str, amount: int) -> dict[str, Any]:
        return {
            "out_trade_no": "O2O00000007",
            "out_refund_no": no,
            "amount": {"refund": amount, "total": 100, "currency": "CNY"},
        }

    made = await _call(sim, wechat_keys, "POST", url, refund("r1", 60))
    assert made.json()["status"] == "PROCESSING"
    same = await _call(sim, wechat_keys, "POST", url, refund("r1", 60))
    assert same.json()["refund_id"] == made.json()["refund_id"]
    changed = await _call(sim, wechat_keys, "POST", url, refund("r1", 61))
    assert changed.status_code == 400
    beyond = await _call(sim, wechat_keys, "POST", url, refund("r2", 41))
    assert (beyond.status_code, beyond.json()["code"]) == (400, "INVALID_REQUEST")
    assert (await _call(sim, wechat_keys, "POST", url, refund("r2", 40))).status_code == 200
    assert sim.trade("O2O00000007").state == "REFUND"
    close = "/v3/pay/transactions/out-trade-no/O2O00000007/close"
    closing = await _call(sim, wechat_keys, "POST", close, {"mchid": MCHID})
    assert (closing.status_code, closing.json()["code"]) == (403, "TRADE_ERROR")


async def test_notifications_are_retried_on_schedule_and_signed_afresh(wechat_keys: Keys) -> None:
    answers = iter([500, 503, 204])
    seen: list[httpx.Request] = []

    def merchant(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(next(answers))

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    schedule = compressed(60)
    sim = _sim(
        wechat_keys,
        notify_transport=httpx.MockTransport(merchant),
        schedule=schedule,
        sleep=sleep,
    )
    await _call(sim, wechat_keys, "POST", NATIVE, _order())
    delivery = await sim.pay("O2O00000007")
    assert delivery is not None
    assert [a.status for a in delivery.attempts] == [500, 503, 204]
    assert slept == [REAL_SCHEDULE[0] / 60, REAL_SCHEDULE[1] / 60]
    assert schedule[0] == 0
    assert sum(REAL_SCHEDULE) / 3600 == pytest.approx(24, abs=0.5)  # about a day for real
    # the same notification each time, each attempt signed on its own
    assert len({r.content for r in seen}) == 1
    assert len({r.headers["wechatpay-nonce"] for r in seen}) == 3
    for request in seen:
        message = crypto.response_message(
            request.headers["wechatpay-timestamp"],
            request.headers["wechatpay-nonce"],
            request.content,
        )
        assert crypto.signature_ok(
            wechat_keys[1].public_key(), message, request.headers["wechatpay-signature"]
        )
        assert request.headers["wechatpay-signature-type"] == "WECHATPAY2-SHA256-RSA2048"
        assert str(request.url) == "https://shop.example/notify"
    body = json.loads(seen[0].content)
    assert body["resource_type"] == "encrypt-resource"
    assert body["resource"]["algorithm"] == "AEAD_AES_256_GCM"
    assert body["resource"]["original_type"] == "transaction"
    plain = crypto.decrypt(
        b"a" * 32,
        nonce=body["resource"]["nonce"],
        associated_data=body["resource"]["associated_data"],
        ciphertext=body["resource"]["ciphertext"],
    )
    transaction = json.loads(plain)
    assert (transaction["trade_state"], transaction["amount"]["total"]) == ("SUCCESS", 100)
    assert transaction["success_time"].endswith("+08:00")


async def test_a_merchant_that_never_answers_is_tried_until_the_schedule_ends(
    wechat_keys: Keys,
) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async def no_sleep(_s: float) -> None:
        return None

    sim = _sim(
        wechat_keys, notify_transport=httpx.MockTransport(down), schedule=(0, 1, 2), sleep=no_sleep
    )
    await _call(sim, wechat_keys, "POST", NATIVE, _order())
    delivery = await sim.pay("O2O00000007")
    assert delivery is not None
    assert [a.status for a in delivery.attempts] == [None, None, None]
    assert not delivery.delivered
