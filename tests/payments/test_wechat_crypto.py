"""WeChat Pay's wire rules, checked against their published layout and against the
simulator (an independent implementation): what we sign, what we verify, what we decrypt."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from o2o.payments.wechat import bill, crypto
from o2o.sandbox.wechat import signing
from o2o.sandbox.wechat.books import RefundRecord, Trade, trade_bill

Keys = tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
BODY = '{"appid":"wxd678efh567hg6787","mchid":"1230000109","amount":{"total":1}}'


def test_the_request_message_is_the_documented_layout() -> None:
    message = crypto.request_message(
        "POST",
        "/v3/pay/transactions/native",
        "1554208460",
        "593BEC0C930BF1AFEB40B4A08C8FB242",
        BODY,
    )
    assert message == (
        b"POST\n/v3/pay/transactions/native\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n"
        + BODY.encode()
        + b"\n"
    )
    # a GET signs an empty body, still followed by its newline
    assert (
        crypto.request_message("GET", "/v3/x?mchid=1", "1", "n", "")
        == b"GET\n/v3/x?mchid=1\n1\nn\n\n"
    )
    assert crypto.response_message("1554209980", "c5ac7061fccab6bf3e254dcf98995b8c", b"{}") == (
        b"1554209980\nc5ac7061fccab6bf3e254dcf98995b8c\n{}\n"
    )


def test_the_authorization_header_signs_that_message(wechat_keys: Keys) -> None:
    merchant_key, _ = wechat_keys
    header = crypto.authorization(
        mchid="1230000109",
        serial="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",
        private_key=merchant_key,
        method="POST",
        url="/v3/pay/transactions/native",
        body=BODY,
        timestamp="1554208460",
        nonce="593BEC0C930BF1AFEB40B4A08C8FB242",
    )
    scheme, _, params = header.partition(" ")
    assert scheme == "WECHATPAY2-SHA256-RSA2048"
    fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
    assert set(fields) == {"mchid", "nonce_str", "signature", "timestamp", "serial_no"}
    assert fields["serial_no"] == "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"
    # SHA256withRSA (PKCS#1 v1.5) is deterministic: the same signature, computed directly
    literal = (
        "POST\n/v3/pay/transactions/native\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n"
        + BODY
        + "\n"
    ).encode()
    expected = merchant_key.sign(literal, padding.PKCS1v15(), hashes.SHA256())
    assert fields["signature"] == base64.b64encode(expected).decode()
    # and the simulator, reading the rules on its own, accepts it, and only for that request
    creds = signing.parse_authorization(header)
    assert creds is not None
    public = merchant_key.public_key()
    url = "/v3/pay/transactions/native"
    assert signing.merchant_signed(public, creds, "POST", url, BODY.encode())
    assert not signing.merchant_signed(public, creds, "POST", url, BODY.encode() + b" ")
    assert not signing.merchant_signed(public, creds, "GET", url, BODY.encode())


def test_wechat_pay_signatures_verify_and_forgeries_do_not(wechat_keys: Keys) -> None:
    merchant_key, platform_key = wechat_keys
    body = b'{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}'
    signature = signing.platform_signature(platform_key, "1554209980", "abc", body)
    public = platform_key.public_key()
    assert crypto.signature_ok(
        public, crypto.response_message("1554209980", "abc", body), signature
    )
    assert not crypto.signature_ok(
        public, crypto.response_message("1554209981", "abc", body), signature
    )
    forged = signing.platform_signature(merchant_key, "1554209980", "abc", body)
    assert not crypto.signature_ok(
        public, crypto.response_message("1554209980", "abc", body), forged
    )
    assert not crypto.signature_ok(public, b"x", "not base64!")


def test_resources_sealed_by_the_simulator_open_with_the_api_v3_key() -> None:
    key = b"0123456789abcdefghijklmnopqrstuv"
    plain = json.dumps({"out_trade_no": "O2O00000001", "amount": {"total": 1}}).encode()
    nonce, ciphertext = signing.seal(key, plain, "transaction")
    assert len(nonce) == 12
    opened = crypto.decrypt(key, nonce=nonce, associated_data="transaction", ciphertext=ciphertext)
    assert opened == plain
    with pytest.raises(crypto.DecryptError):  # another merchant's key
        crypto.decrypt(b"k" * 32, nonce=nonce, associated_data="transaction", ciphertext=ciphertext)
    with pytest.raises(crypto.DecryptError):  # the associated data is authenticated too
        crypto.decrypt(key, nonce=nonce, associated_data="refund", ciphertext=ciphertext)
    raw = bytearray(base64.b64decode(ciphertext))
    raw[3] ^= 1
    with pytest.raises(crypto.DecryptError):  # one bit changed
        crypto.decrypt(
            key,
            nonce=nonce,
            associated_data="transaction",
            ciphertext=base64.b64encode(raw).decode(),
        )
    with pytest.raises(crypto.DecryptError):
        crypto.decrypt(key, nonce=nonce, associated_data="transaction", ciphertext="***")


def test_yuan_become_fen_exactly() -> None:
    assert [bill.fen(v) for v in ("0.01", "12.30", "1234.56", "0", "-0.07")] == [
        1,
        1230,
        123456,
        0,
        -7,
    ]
    for bad in ("1.005", "abc", ""):
        with pytest.raises(bill.BillFormatError):
            bill.fen(bad)


def test_the_bill_file_reads_into_payments_and_refunds() -> None:
    # a trade paid at 07:30 China time on 2 March (23:30 UTC on 1 March), refunded in part
    paid_at = datetime(2026, 3, 1, 23, 30, 5, tzinfo=UTC)
    trade = Trade(
        mchid="1230000109",
        appid="wxd678efh567hg6787",
        out_trade_no="O2O00000042",
        description="Pickup, Store A, 一件 T恤, with a comma",
        notify_url="https://shop.example/n",
        total=10050,
        currency="CNY",
        created_at=paid_at,
        state="SUCCESS",
        transaction_id="4200000001202603020000000001",
        success_time=paid_at,
    )
    trade.refunds.append(RefundRecord("r1", "50300001", 2001, paid_at.replace(minute=45)))
    text = trade_bill([trade], date(2026, 3, 2))
    assert text is not None
    assert text.splitlines()[1].startswith("`2026-03-02 07:30:05,`wxd678efh567hg6787")
    rows = bill.parse(text)
    assert [(r.kind, r.amount, r.out_trade_no, r.out_refund_no) for r in rows] == [
        ("payment", 10050, "O2O00000042", None),
        ("refund", 2001, "O2O00000042", "r1"),
    ]
    assert rows[0].at == paid_at
    assert rows[0].transaction_id == "4200000001202603020000000001"
    assert trade_bill([trade], date(2026, 3, 1)) is None  # China's 1 March saw nothing
    with pytest.raises(bill.BillFormatError):
        bill.parse("交易时间,商户号\n`2026-03-02 07:30:05,`1\n")
