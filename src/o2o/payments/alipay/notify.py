"""Alipay's asynchronous notification (``trade_status_sync``): a form-encoded POST, signed with
RSA2 over its sorted parameters but ``sign`` and ``sign_type``. Alipay repeats it (for about a
day) until it reads ``success``, so the same genuine notification may arrive many times;
anything that is not genuine, or not for a payment of ours, is refused with a reason."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from o2o.payments.alipay import signing
from o2o.payments.alipay.codec import CURRENCY, parse_yuan, payment_id_of
from o2o.payments.alipay.config import AlipayConfig
from o2o.payments.exceptions import InvalidNotification
from o2o.payments.providers import Notice

# A notification is one to two KiB; lists of vouchers or fund channels can lengthen it a little.
MAX_BODY = 8 * 1024
MAX_FIELDS = 100
FORM = "application/x-www-form-urlencoded"
PAID = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})
# WAIT_BUYER_PAY is not notified by default, TRADE_CLOSED is (a full refund, or a timeout).
UNPAID = frozenset({"WAIT_BUYER_PAY", "TRADE_CLOSED"})


def _reject(reason: str, detail: str) -> InvalidNotification:
    return InvalidNotification(detail, reason=reason)


def parse_form(body: bytes) -> dict[str, str]:
    """The fields of a form body; a field given twice makes it ambiguous, so malformed."""
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError as exc:  # not UTF-8, a piece without "=", bad escapes, too many fields
        raise _reject("malformed", "The notification is not a form.") from exc
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise _reject("malformed", "The notification repeats a field.")
    return fields


def verify_notification(config: AlipayConfig, headers: Mapping[str, str], body: bytes) -> Notice:
    if len(body) > MAX_BODY:
        raise _reject("too_large", "The notification is too large.")
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != FORM:
        raise _reject("wrong_content_type", f"A notification is {FORM}, not {media or 'none'}.")
    fields = parse_form(body) if body else {}
    signature = fields.get("sign", "")
    if not signature:
        raise _reject("unsigned", "The notification is not signed.")
    if fields.get("sign_type") != "RSA2":
        raise _reject("unsupported_sign_type", "Only RSA2 notifications are accepted.")
    content = signing.notification_content(fields)
    if not signing.verify(content, signature, config.alipay_public_key):
        raise _reject("bad_signature", "The signature is not Alipay's.")
    # Signed by Alipay from here on: what is left is whether it is for us and well formed.
    if fields.get("app_id") != config.app_id:
        raise _reject("foreign_app", "The notification is for another application.")
    if fields.get("notify_type") != "trade_status_sync":
        raise _reject("unexpected_type", "Only trade status notifications are handled.")
    payment_id = payment_id_of(fields.get("out_trade_no", ""), config.trade_no_prefix)
    if payment_id is None:
        raise _reject("unknown_trade", "The merchant order number is not one of ours.")
    status, trade_no = fields.get("trade_status", ""), fields.get("trade_no", "")
    if status not in PAID | UNPAID or not trade_no or len(trade_no) > 64:
        raise _reject("malformed", "The trade number or status is missing or unknown.")
    try:
        amount = parse_yuan(fields.get("total_amount", ""))
    except ValueError as exc:
        raise _reject("malformed", "The total amount is not an amount.") from exc
    return Notice(
        payment_id=payment_id,
        provider_trade_no=trade_no,
        amount=amount,
        currency=CURRENCY,
        paid=status in PAID,
    )
