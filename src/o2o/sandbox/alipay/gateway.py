"""The gateway's common checks, done before any method runs: the common parameters, the app,
and the signature of the request (RSA2 over every parameter but ``sign``, empty ones left out).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives.asymmetric import rsa

from o2o.sandbox.alipay.book import CST, STAMP, Refusal
from o2o.sandbox.alipay.keys import rsa2_verify, string_to_sign

MAX_REQUEST = 64 * 1024


def _missing(what: str, message: str) -> Refusal:
    return Refusal(f"isv.missing-{what}", message, code="40001", msg="Missing Required Arguments")


def _invalid(what: str, message: str) -> Refusal:
    return Refusal(f"isv.invalid-{what}", message, code="40002", msg="Invalid Arguments")


def parse_params(query: str, body: bytes) -> dict[str, str]:
    """The request's parameters, from the query string (where SDKs put the common ones) and
    the form body; a parameter given twice is refused."""
    if len(body) > MAX_REQUEST:
        raise _invalid("parameter", "请求过大")
    try:
        pairs = parse_qsl(query, keep_blank_values=True) + parse_qsl(
            body.decode("utf-8"), keep_blank_values=True
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise _invalid("parameter", "参数无效") from exc
    params = dict(pairs)
    if len(params) != len(pairs):
        raise _invalid("parameter", "参数重复")
    return params


def checked_biz(
    params: dict[str, str], apps: dict[str, rsa.RSAPublicKey], methods: frozenset[str]
) -> dict[str, Any]:
    """The ``biz_content`` of a request that passes the gateway's checks; Refusal if not."""
    for name, sub in (
        ("app_id", "app-id"),
        ("method", "method"),
        ("sign", "signature"),
        ("sign_type", "signature-type"),
        ("timestamp", "timestamp"),
        ("version", "version"),
    ):
        if not params.get(name):
            raise _missing(sub, f"缺少{name}参数")
    if params["method"] not in methods:
        raise _invalid("method", "不存在的方法名")
    if params["sign_type"] != "RSA2":
        raise _invalid("signature-type", "无效的签名类型")
    if params.get("charset", "utf-8").lower() != "utf-8":
        raise _invalid("charset", "字符集错误")
    if params.get("format", "JSON").upper() != "JSON":
        raise _invalid("format", "无效的数据格式")
    try:
        datetime.strptime(params["timestamp"], STAMP).replace(tzinfo=CST)
    except ValueError as exc:
        raise _invalid("timestamp", "非法的时间戳参数") from exc
    key = apps.get(params["app_id"])
    if key is None:
        raise _invalid("app-id", "无效的AppID参数")
    text = string_to_sign(params, skip={"sign"}, drop_empty=True)
    if not rsa2_verify(key, text, params["sign"]):
        raise _invalid("signature", "验签出错")
    try:
        biz = json.loads(params.get("biz_content") or "{}")
    except ValueError as exc:
        raise _invalid("parameter", "biz_content 不是 JSON") from exc
    if not isinstance(biz, dict):
        raise _invalid("parameter", "biz_content 不是 JSON 对象")
    return biz
