"""The Alipay sandbox on its own, spoken to as the documentation says a merchant does: it must
be strict where Alipay is (signatures, app ids, parameters), or the platform's tests would
prove nothing."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from o2o.payments.alipay import signing
from o2o.sandbox.alipay import AlipaySandbox
from o2o.sandbox.alipay.keys import new_key, rsa2_sign, string_to_sign

APP = "2021000000000042"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 3, 1, 4, 0, tzinfo=UTC)  # 12:00 in Beijing

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(app_key: rsa.RSAPrivateKey, clock: Clock) -> AlipaySandbox:
    sandbox = AlipaySandbox(base_url="http://alipay.test/sb", auto_notify=False, clock=clock)
    sandbox.register_app(APP, app_key.public_key())
    return sandbox


@pytest.fixture
async def client(sandbox: AlipaySandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=sandbox.transport()) as client:
        yield client


async def call(
    client: httpx.AsyncClient,
    sandbox: AlipaySandbox,
    key: rsa.RSAPrivateKey,
    method: str,
    biz: dict[str, Any],
    **common: str,
) -> tuple[str, dict[str, Any]]:
    """A signed request; the answer's node name and node, its signature checked."""
    params = {
        "app_id": APP,
        "method": method,
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": "2024-03-01 12:00:00",
        "version": "1.0",
        "notify_url": "http://shop.test/notify",
        "biz_content": json.dumps(biz),
        **common,
    }
    params["sign"] = rsa2_sign(key, string_to_sign(params, skip={"sign"}, drop_empty=True))
    response = await client.post(sandbox.gateway_url, data=params)
    assert response.status_code == 200
    members = signing.json_members(response.text)
    ((name, (node, raw)),) = [(k, v) for k, v in members.items() if k != "sign"]
    assert signing.verify(raw, members["sign"][0], sandbox.public_key)
    return name, node


async def test_the_gateway_refuses_what_alipay_refuses(
    client: httpx.AsyncClient, sandbox: AlipaySandbox, app_key: rsa.RSAPrivateKey
) -> None:
    method = "alipay.trade.query"
    biz = {"out_trade_no": "A1"}
    _, bad_sign = await call(client, sandbox, new_key(), method, biz)
    _, unknown_app = await call(client, sandbox, app_key, method, biz, app_id="2021999")
    _, wrong_type = await call(client, sandbox, app_key, method, biz, sign_type="RSA")
    _, bad_time = await call(client, sandbox, app_key, method, biz, timestamp="yesterday")
    name, no_method = await call(client, sandbox, app_key, "alipay.trade.pay.fast", biz)
    assert [(n["code"], n["sub_code"]) for n in (bad_sign, unknown_app, wrong_type, bad_time)] == [
        ("40002", "isv.invalid-signature"),
        ("40002", "isv.invalid-app-id"),
        ("40002", "isv.invalid-signature-type"),
        ("40002", "isv.invalid-timestamp"),
    ]
    assert (name, no_method["sub_code"]) == ("error_response", "isv.invalid-method")


async def test_a_precreated_code_is_a_trade_only_once_scanned(
    client: httpx.AsyncClient, sandbox: AlipaySandbox, app_key: rsa.RSAPrivateKey
) -> None:
    order = {"out_trade_no": "A2", "total_amount": "12.30", "subject": "咖啡"}
    name, first = await call(client, sandbox, app_key, "alipay.trade.precreate", order)
    _, again = await call(client, sandbox, app_key, "alipay.trade.precreate", order)
    _, changed = await call(
        client, sandbox, app_key, "alipay.trade.precreate", {**order, "total_amount": "1.00"}
    )
    assert name == "alipay_trade_precreate_response"
    assert first["qr_code"] == again["qr_code"]
    assert first["qr_code"].startswith("http://alipay.test/sb/qr/")
    assert changed["sub_code"] == "ACQ.CONTEXT_INCONSISTENT"

    _, before = await call(client, sandbox, app_key, "alipay.trade.query", {"out_trade_no": "A2"})
    _, close = await call(client, sandbox, app_key, "alipay.trade.close", {"out_trade_no": "A2"})
    assert before["sub_code"] == close["sub_code"] == "ACQ.TRADE_NOT_EXIST"

    page = await client.get(first["qr_code"])
    assert page.status_code == 200
    assert "¥12.30" in page.text
    _, after = await call(client, sandbox, app_key, "alipay.trade.query", {"out_trade_no": "A2"})
    assert (after["code"], after["trade_status"], after["total_amount"]) == (
        "10000",
        "WAIT_BUYER_PAY",
        "12.30",
    )


async def test_bad_amounts_are_invalid_parameters(
    client: httpx.AsyncClient, sandbox: AlipaySandbox, app_key: rsa.RSAPrivateKey
) -> None:
    for amount in ("0.00", "1.234", "-1", "1e2", 12.3, "100000000.01"):
        order = {"out_trade_no": "A3", "total_amount": amount, "subject": "x"}
        _, node = await call(client, sandbox, app_key, "alipay.trade.precreate", order)
        assert node["sub_code"] == "ACQ.INVALID_PARAMETER", amount


async def test_paying_notifies_signed_as_documented_and_a_code_past_its_expiry_cannot_pay(
    client: httpx.AsyncClient, sandbox: AlipaySandbox, app_key: rsa.RSAPrivateKey, clock: Clock
) -> None:
    expiry = {"time_expire": "2024-03-01 12:15:00"}
    for number in ("A4", "A5"):
        order = {"out_trade_no": number, "total_amount": "0.01", "subject": "x", **expiry}
        await call(client, sandbox, app_key, "alipay.trade.precreate", order)
    await sandbox.pay("A4")
    (owed,) = sandbox.notifier.owed
    fields = dict(parse_qsl(owed.body.decode("ascii"), keep_blank_values=True))
    assert owed.url == "http://shop.test/notify"
    assert {k: fields[k] for k in ("notify_type", "app_id", "out_trade_no", "trade_status")} == {
        "notify_type": "trade_status_sync",
        "app_id": APP,
        "out_trade_no": "A4",
        "trade_status": "TRADE_SUCCESS",
    }
    assert fields["total_amount"] == fields["receipt_amount"] == "0.01"
    assert fields["gmt_payment"] == "2024-03-01 12:00:00"
    content = signing.notification_content(fields)
    assert signing.verify(content, fields["sign"], sandbox.public_key)

    clock.now += timedelta(minutes=16)
    code = sandbox.trade("A5").code
    wallet = await client.post(f"http://alipay.test/sb/qr/{code}/pay")
    assert wallet.status_code == 303
    assert sandbox.trade("A5").status == "TRADE_CLOSED"
    assert len(sandbox.notifier.owed) == 1


async def test_notifications_are_retried_on_the_schedule_until_success(
    sandbox: AlipaySandbox, app_key: rsa.RSAPrivateKey
) -> None:
    answers = iter(
        [
            httpx.Response(500),
            httpx.Response(200, text="success\n"),
            httpx.Response(200, text="success"),
        ]
    )
    sandbox.notifier.transport = httpx.MockTransport(lambda _r: next(answers))
    sandbox.notifier.schedule = (0.01, 0.01, 0.01)
    sandbox.auto_notify = True
    trade = sandbox.book.precreate(
        APP,
        {"out_trade_no": "A6", "total_amount": "1.00", "subject": "x"},
        notify_url="http://shop.test/notify",
        now=sandbox.clock(),
    )
    await sandbox.pay(trade.out_trade_no)
    for _ in range(100):
        if sandbox.notifier.owed[0].done:
            break
        await asyncio.sleep(0.01)
    # "success" with a newline is not "success": Alipay keeps trying
    assert [(d.status, d.accepted) for d in sandbox.deliveries] == [
        (500, False),
        (200, False),
        (200, True),
    ]
    await sandbox.aclose()


async def test_the_bill_is_a_zip_of_gbk_csv_with_payments_and_refunds(
    client: httpx.AsyncClient, sandbox: AlipaySandbox, app_key: rsa.RSAPrivateKey
) -> None:
    order = {"out_trade_no": "A7", "total_amount": "5.00", "subject": "茶"}
    await call(client, sandbox, app_key, "alipay.trade.precreate", order)
    await sandbox.pay("A7")
    refund = {"out_trade_no": "A7", "refund_amount": "1.50", "out_request_no": "R1"}
    _, made = await call(client, sandbox, app_key, "alipay.trade.refund", refund)
    _, repeat = await call(client, sandbox, app_key, "alipay.trade.refund", refund)
    assert (made["fund_change"], repeat["fund_change"], repeat["refund_fee"]) == ("Y", "N", "1.50")

    query = {"bill_type": "trade", "bill_date": "2024-03-01"}
    _, node = await call(
        client, sandbox, app_key, "alipay.data.dataservice.bill.downloadurl.query", query
    )
    download = await client.get(node["bill_download_url"])
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        (detail,) = [n for n in archive.namelist() if n.endswith("业务明细.csv")]
        text = archive.read(detail).decode("gbk")
    rows = [line.split(",") for line in text.splitlines() if not line.startswith("#")]
    assert rows[0][:3] == ["支付宝交易号", "商户订单号", "业务类型"]
    assert [(r[1].strip(), r[2], r[11], r[21].strip()) for r in rows[1:]] == [
        ("A7", "交易", "5.00", ""),
        ("A7", "退款", "-1.50", "R1"),
    ]
    # a bill link lasts thirty seconds
    sandbox.clock = lambda: datetime.now(UTC) + timedelta(days=3650)
    assert (await client.get(node["bill_download_url"])).status_code == 404
