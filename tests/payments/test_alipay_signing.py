"""Alipay's protocol pieces on their own: the string a signature covers, RSA2, exact yuan
amounts, our merchant order numbers, and the exact text of an answer's node."""

from __future__ import annotations

import json
from functools import cache

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from o2o.payments.alipay import codec, signing
from o2o.payments.alipay.config import AlipayConfig
from o2o.payments.alipay.gateway import answer_node
from o2o.payments.exceptions import ProviderAnswerInvalid, ProviderRefused
from o2o.sandbox.alipay import keys as sandbox_keys


@cache
def key(n: int = 0) -> rsa.RSAPrivateKey:
    return sandbox_keys.new_key()


def config(alipay: rsa.RSAPrivateKey) -> AlipayConfig:
    return AlipayConfig(
        app_id="2021000000000001",
        private_key=key(1),
        alipay_public_key=alipay.public_key(),
        gateway="https://openapi.alipay.com/gateway.do",
        notify_url="https://shop.example/api/v1/payments/alipay/notify",
    )


def test_a_request_signs_its_parameters_sorted_without_sign_and_empty_values() -> None:
    params = {
        "timestamp": "2014-07-24 03:07:50",
        "method": "alipay.trade.precreate",
        "app_id": "2014072300007148",
        "sign_type": "RSA2",
        "sign": "ignored",
        "notify_url": "",
        "version": "1.0",
        "charset": "utf-8",
        "biz_content": '{"out_trade_no":"O2O7","subject":"咖啡"}',
    }
    assert signing.request_content(params) == (
        'app_id=2014072300007148&biz_content={"out_trade_no":"O2O7","subject":"咖啡"}'
        "&charset=utf-8&method=alipay.trade.precreate&sign_type=RSA2"
        "&timestamp=2014-07-24 03:07:50&version=1.0"
    )


def test_a_notification_signs_all_but_sign_and_sign_type_empty_values_included() -> None:
    params = {"b": "2", "a": "1", "sign": "x", "sign_type": "RSA2", "c": ""}
    assert signing.notification_content(params) == "a=1&b=2&c="


def test_signatures_verify_across_the_two_independent_implementations() -> None:
    content = "a=1&b=两&c=3"
    ours = signing.sign(content, key())
    assert sandbox_keys.rsa2_verify(key().public_key(), content, ours)
    theirs = sandbox_keys.rsa2_sign(key(), content)
    assert theirs == ours  # PKCS#1 v1.5 is deterministic
    assert signing.verify(content, theirs, key().public_key())
    assert not signing.verify(content + "&d=4", theirs, key().public_key())
    assert not signing.verify(content, theirs, key(1).public_key())
    assert not signing.verify(content, "not base64!", key().public_key())


@pytest.mark.parametrize(
    ("minor", "yuan"),
    [
        (1, "0.01"),
        (10, "0.10"),
        (99, "0.99"),
        (100, "1.00"),
        (123456, "1234.56"),
        (100_000_000_00, "100000000.00"),
    ],
)
def test_minor_units_are_written_as_exact_yuan(minor: int, yuan: str) -> None:
    assert codec.to_yuan(minor) == yuan
    assert codec.parse_yuan(yuan) == minor


@pytest.mark.parametrize(
    "text", ["", "1.234", "-1.00", "1e3", " 1.00", "01.00", "1.", ".5", "NaN", "１.00", "1,000"]
)
def test_anything_but_a_plain_yuan_amount_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a yuan amount"):
        codec.parse_yuan(text)


def test_short_forms_and_signed_amounts_parse_exactly() -> None:
    assert (codec.parse_yuan("1"), codec.parse_yuan("1.5")) == (100, 150)
    assert codec.parse_yuan("-0.50", signed=True) == -50
    with pytest.raises(ValueError, match="never negative"):
        codec.to_yuan(-1)


@given(st.integers(min_value=0, max_value=codec.MAX_AMOUNT))
def test_yuan_round_trips_every_amount(minor: int) -> None:
    assert codec.parse_yuan(codec.to_yuan(minor)) == minor


def test_merchant_order_numbers_map_back_to_our_payments_only() -> None:
    assert codec.out_trade_no(42) == "O2O42"
    assert codec.payment_id_of("O2O42") == 42
    assert codec.payment_id_of(codec.out_trade_no(2**63 - 1)) == 2**63 - 1
    for foreign in ("42", "O2O", "O2O0", "O2O042", "o2o42", "O2O42 ", f"O2O{2**63}"):
        assert codec.payment_id_of(foreign) is None


def test_beijing_time_is_utc_plus_eight() -> None:
    at = codec.parse_beijing("2024-01-01 08:00:00")
    assert at.isoformat() == "2024-01-01T00:00:00+00:00"
    assert codec.beijing(at) == "2024-01-01 08:00:00"


def test_json_members_keep_each_value_as_sent() -> None:
    text = ' { "a_response" : {"code":"10000", "msg":"成功\\/ok"} , "sign":"c2ln" } '
    members = signing.json_members(text)
    assert members["a_response"] == (
        {"code": "10000", "msg": "成功/ok"},
        '{"code":"10000", "msg":"成功\\/ok"}',
    )
    assert members["sign"][0] == "c2ln"
    for bad in ("[]", '{"a":1,"a":2}', '{"a":1} x', '{"a" 1}', '{"a":1,}', ""):
        with pytest.raises(ValueError):  # noqa: PT011 (each form has its own message)
            signing.json_members(bad)


def _answer(node: dict[str, str], signer: rsa.RSAPrivateKey | None) -> bytes:
    text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
    sign = f',"sign":"{signing.sign(text, signer)}"' if signer else ""
    return f'{{"alipay_trade_query_response":{text}{sign}}}'.encode()


def test_an_answer_is_trusted_only_with_alipays_signature() -> None:
    alipay, cfg = key(), config(key())
    good = {"code": "10000", "msg": "Success", "trade_no": "T1"}
    assert answer_node("alipay.trade.query", _answer(good, alipay), cfg)["trade_no"] == "T1"
    for forged in (_answer(good, key(1)), _answer(good, None), b"<html>", b"\xff"):
        with pytest.raises(ProviderAnswerInvalid):
            answer_node("alipay.trade.query", forged, cfg)


def test_a_failure_code_is_refused_with_alipays_sub_code() -> None:
    failure = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
    for signer in (key(), None):  # gateway-level failures may come unsigned
        with pytest.raises(ProviderRefused) as refused:
            answer_node("alipay.trade.query", _answer(failure, signer), config(key()))
        assert refused.value.extra == {"provider_code": "40004", "sub_code": "ACQ.TRADE_NOT_EXIST"}
        assert refused.value.status == 502
