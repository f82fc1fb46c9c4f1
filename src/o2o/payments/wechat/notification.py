"""Reading a WeChat Pay payment notification: trust nothing until it is proven.

The order of the checks is the order of cost and of what each proves: the size and type of
the request, the signature headers (WeChat Pay's key, a fresh timestamp, a valid RSA
signature over the exact body), the envelope, then the resource decrypted with our API v3
key, which must be a transaction of our merchant and app, for one of our payments. Each
failure has its own ``reason``: it is what the notification log says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from o2o.payments.exceptions import InvalidNotification
from o2o.payments.numbers import DEFAULT_PREFIX
from o2o.payments.providers import Notice
from o2o.payments.wechat import crypto
from o2o.payments.wechat.config import WechatConfig
from o2o.payments.wechat.trade_no import payment_id_of

# A real notification is about 1 KB; a large one is not from WeChat Pay.
MAX_BODY = 16 * 1024
TOLERANCE_SECONDS = 300
# trade_state values that mean the money was taken (REFUND: taken, then refunded in part).
PAID_STATES = {"SUCCESS", "REFUND"}


def _reject(reason: str, detail: str) -> InvalidNotification:
    return InvalidNotification(detail, reason=reason)


def check_signature(
    config: WechatConfig, headers: Mapping[str, str], body: bytes, *, now: float
) -> None:
    if len(body) > MAX_BODY:
        raise _reject("too_large", "The notification is too large.")
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise _reject("wrong_content_type", f"Expected application/json, not {media_type!r}.")
    timestamp = headers.get("wechatpay-timestamp", "")
    nonce = headers.get("wechatpay-nonce", "")
    signature = headers.get("wechatpay-signature", "")
    serial = headers.get("wechatpay-serial", "")
    if not (timestamp and nonce and signature and serial):
        raise _reject("unsigned", "The Wechatpay-* signature headers are missing.")
    kind = headers.get("wechatpay-signature-type", crypto.SIGNATURE_TYPE)
    if kind != crypto.SIGNATURE_TYPE:
        raise _reject("unsupported_signature", f"Signature type {kind!r} is not supported.")
    if serial != config.platform_serial:
        raise _reject("unknown_serial", f"Signed with key {serial!r}, not the configured one.")
    # A valid notification replayed later is refused: its timestamp is signed with it.
    if not crypto.is_timestamp(timestamp) or abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise _reject("stale", "The notification's timestamp is more than 5 minutes off.")
    message = crypto.response_message(timestamp, nonce, body)
    if not crypto.signature_ok(config.platform_public_key, message, signature):
        raise _reject("bad_signature", "The signature does not verify.")


def _resource(body: bytes) -> Mapping[str, Any]:
    try:
        envelope = json.loads(body)
    except ValueError as exc:
        raise _reject("malformed", "The notification is not JSON.") from exc
    resource = envelope.get("resource") if isinstance(envelope, dict) else None
    if not isinstance(resource, dict):
        raise _reject("malformed", "The notification has no resource.")
    if resource.get("original_type") != "transaction":
        raise _reject("unsupported_event", "Only transaction notifications are handled.")
    if resource.get("algorithm") != crypto.AEAD:
        raise _reject("unsupported_algorithm", "The resource is not AEAD_AES_256_GCM.")
    for name in ("ciphertext", "nonce"):
        if not isinstance(resource.get(name), str):
            raise _reject("malformed", f"The resource has no {name}.")
    if not isinstance(resource.get("associated_data", ""), str):
        raise _reject("malformed", "The resource's associated_data is not text.")
    return resource


def _transaction(config: WechatConfig, resource: Mapping[str, Any]) -> Mapping[str, Any]:
    try:
        plain = crypto.decrypt(
            config.apiv3_key,
            nonce=resource["nonce"],
            associated_data=resource.get("associated_data", ""),
            ciphertext=resource["ciphertext"],
        )
    except crypto.DecryptError as exc:
        raise _reject("decrypt_failed", "The resource does not decrypt with our key.") from exc
    try:
        transaction = json.loads(plain)
    except ValueError as exc:
        raise _reject("malformed", "The decrypted resource is not JSON.") from exc
    if not isinstance(transaction, dict):
        raise _reject("malformed", "The decrypted resource is not a transaction.")
    return transaction


def read(config: WechatConfig, headers: Mapping[str, str], body: bytes, *, now: float) -> Notice:
    """The notice in a genuine notification of ours; ``InvalidNotification`` otherwise."""
    check_signature(config, headers, body, now=now)
    transaction = _transaction(config, _resource(body))
    if transaction.get("mchid") != config.mchid:
        raise _reject("foreign_merchant", "The transaction is for another merchant.")
    if transaction.get("appid") != config.appid:
        raise _reject("foreign_app", "The transaction is for another app.")
    return notice_of(transaction, config.trade_no_prefix)


def notice_of(transaction: Mapping[str, Any], prefix: str = DEFAULT_PREFIX) -> Notice:
    """A transaction (notified, or queried) as a notice; ``InvalidNotification`` when it is
    not one of our payments or is malformed."""
    out_trade_no = transaction.get("out_trade_no")
    payment_id = payment_id_of(out_trade_no, prefix) if isinstance(out_trade_no, str) else None
    if payment_id is None:
        raise _reject("unknown_trade", f"{out_trade_no!r} is not one of our trade numbers.")
    amount = transaction.get("amount")
    total = amount.get("total") if isinstance(amount, dict) else None
    # WeChat Pay marks currency optional (it only settles CNY): absent means CNY.
    currency = amount.get("currency", "CNY") if isinstance(amount, dict) else None
    state = transaction.get("trade_state")
    trade_id = transaction.get("transaction_id", "")
    # bool is an int in Python: a forged ``"total": true`` must not read as 1 fen.
    if type(total) is not int or not isinstance(currency, str) or not isinstance(state, str):
        raise _reject("malformed", "The transaction's amount or state is malformed.")
    if not isinstance(trade_id, str):
        raise _reject("malformed", "The transaction id is malformed.")
    return Notice(
        payment_id=payment_id,
        provider_trade_no=trade_id,
        amount=total,
        currency=currency,
        paid=state in PAID_STATES,
    )
