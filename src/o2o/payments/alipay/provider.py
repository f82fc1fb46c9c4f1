"""``AlipayProvider``: face-to-face payment (当面付) as a ``PaymentProvider``.

The shopper scans the ``qr_code`` of ``alipay.trade.precreate`` with the Alipay app and pays
there; Alipay then notifies the shared route ``/api/v1/payments/alipay/notify``. Alipay only
opens a trade when the code is scanned, so until then query and close answer "trade not
exist": a closed payment's code stays payable until ``time_expire``, and a payment that
arrives after its order ended is settled and refunded by the orders (``apply_payment``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.settings import Settings
from o2o.payments.alipay import bill, notify
from o2o.payments.alipay.codec import (
    CURRENCY,
    MAX_AMOUNT,
    beijing,
    out_trade_no,
    parse_yuan,
    to_yuan,
)
from o2o.payments.alipay.config import AlipayConfig
from o2o.payments.alipay.gateway import Gateway
from o2o.payments.exceptions import (
    AmountOutOfRange,
    CurrencyNotSupported,
    ProviderAnswerInvalid,
    ProviderRefused,
)
from o2o.payments.models import Payment, Refund
from o2o.payments.providers import Ack, BillLine, Charge, Notice

log = logging.getLogger("o2o.payments.alipay")
NAME = "alipay"
TRADE_NOT_EXIST = "ACQ.TRADE_NOT_EXIST"
TRADE_STATUS_ERROR = "ACQ.TRADE_STATUS_ERROR"
REFUND_QUERY = "alipay.trade.fastpay.refund.query"
REFUND_SUCCESS = "REFUND_SUCCESS"
# time_expire must lie between one minute and fifteen days ahead.
MIN_EXPIRY, MAX_EXPIRY = timedelta(minutes=1), timedelta(days=15)


class AlipayProvider:
    name = NAME

    def __init__(
        self, config: AlipayConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self._gateway = Gateway(config, transport=transport)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        gateway: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> AlipayProvider:
        """Raises ``ProviderMisconfigured`` (with what to set) when a setting is wrong."""
        return cls(AlipayConfig.from_settings(settings, gateway=gateway), transport=transport)

    def _number(self, payment: Payment) -> str:
        return out_trade_no(payment.id, self.config.trade_no_prefix)

    def _subject(self, payment: Payment) -> str:
        # Shown to the shopper in the Alipay app and in their bill.
        return f"O2O {payment.reference}"[:128]

    async def create(self, session: AsyncSession, payment: Payment) -> Charge:
        if payment.currency != CURRENCY:
            raise CurrencyNotSupported(
                f"Alipay takes CNY only, not {payment.currency}.", field="currency"
            )
        if not 0 < payment.amount <= MAX_AMOUNT:
            raise AmountOutOfRange("Alipay takes 0.01 to 100,000,000.00 yuan.", field="amount")
        number = self._number(payment)
        biz: dict[str, object] = {
            "out_trade_no": number,
            "total_amount": to_yuan(payment.amount),
            "subject": self._subject(payment),
            "product_code": "FACE_TO_FACE_PAYMENT",
        }
        left = payment.expires_at - utcnow()
        if left >= MIN_EXPIRY:
            # Past the order's hold the code must not take money any more.
            biz["time_expire"] = beijing(utcnow() + min(left, MAX_EXPIRY))
        node = await self._gateway.call("alipay.trade.precreate", biz, notify=True)
        qr_code = node.get("qr_code")
        if node.get("out_trade_no") != number or not isinstance(qr_code, str):
            raise ProviderAnswerInvalid("Alipay's precreate answer is for another trade.")
        if not qr_code or len(qr_code) > 500:
            raise ProviderAnswerInvalid("Alipay's precreate answer has no usable QR code.")
        return Charge(qr_payload=qr_code)

    def verify(self, headers: Mapping[str, str], body: bytes) -> Notice:
        return notify.verify_notification(self.config, headers, body)

    def acknowledge(self, *, accepted: bool) -> Ack:
        # Alipay stops repeating a notification when it reads exactly "success".
        return Ack(200, "success") if accepted else Ack(400, "fail")

    async def query(self, session: AsyncSession, payment: Payment) -> Notice | None:
        try:
            node = await self._gateway.call(
                "alipay.trade.query", {"out_trade_no": self._number(payment)}
            )
        except ProviderRefused as exc:
            if exc.extra.get("sub_code") == TRADE_NOT_EXIST:  # nobody scanned the code
                return None
            raise
        trade_no, status = node.get("trade_no"), node.get("trade_status")
        if node.get("out_trade_no") != self._number(payment) or not isinstance(trade_no, str):
            raise ProviderAnswerInvalid("Alipay's query answer is for another trade.")
        try:
            amount = parse_yuan(str(node.get("total_amount", "")))
        except ValueError as exc:
            raise ProviderAnswerInvalid("Alipay's query answer has no total amount.") from exc
        return Notice(
            payment_id=payment.id,
            provider_trade_no=trade_no,
            amount=amount,
            currency=CURRENCY,
            paid=status in notify.PAID,
        )

    async def refund(self, session: AsyncSession, payment: Payment, refund: Refund) -> str:
        """Alipay makes a refund once per ``out_request_no``: a retried request is a no-op.
        Alipay has no refund number of its own: ours is the trade's and the request's."""
        biz: dict[str, object] = {
            "out_trade_no": self._number(payment),
            "refund_amount": to_yuan(refund.amount),
            "out_request_no": refund.request_no,
        }
        if refund.reason:
            biz["refund_reason"] = refund.reason[:256]
        node = await self._gateway.call("alipay.trade.refund", biz)
        trade_no = node.get("trade_no")
        if not isinstance(trade_no, str) or not trade_no:
            raise ProviderAnswerInvalid("Alipay's refund answer has no trade number.")
        return f"{trade_no}-{refund.request_no}"[:64]

    async def query_refund(
        self, session: AsyncSession, payment: Payment, refund: Refund
    ) -> str | None:
        """``alipay.trade.fastpay.refund.query`` for the refund's ``out_request_no``: made when
        Alipay answers with that number and its amount (``refund_status`` REFUND_SUCCESS or
        absent, as Alipay documents); not made when the answer has no refund in it (or there
        is no trade at all)."""
        biz = {"out_trade_no": self._number(payment), "out_request_no": refund.request_no}
        try:
            node = await self._gateway.call(REFUND_QUERY, biz)
        except ProviderRefused as exc:
            if exc.extra.get("sub_code") == TRADE_NOT_EXIST:
                return None
            raise
        if node.get("out_trade_no") != self._number(payment):
            raise ProviderAnswerInvalid("Alipay's refund query answer is for another trade.")
        if node.get("out_request_no") != refund.request_no or "refund_amount" not in node:
            return None
        try:
            amount = parse_yuan(str(node["refund_amount"]))
        except ValueError as exc:
            raise ProviderAnswerInvalid("Alipay's refund query has no refund amount.") from exc
        if amount != refund.amount or node.get("refund_status") not in (None, REFUND_SUCCESS):
            raise ProviderAnswerInvalid(
                f"Alipay reports refund {refund.request_no} as {node.get('refund_status')} of "
                f"{amount}, not {refund.amount}."
            )
        trade_no = node.get("trade_no")
        if not isinstance(trade_no, str) or not trade_no:
            raise ProviderAnswerInvalid("Alipay's refund query answer has no trade number.")
        return f"{trade_no}-{refund.request_no}"[:64]

    async def close(self, session: AsyncSession, payment: Payment) -> None:
        try:
            await self._gateway.call("alipay.trade.close", {"out_trade_no": self._number(payment)})
        except ProviderRefused as exc:
            sub_code = exc.extra.get("sub_code")
            if sub_code == TRADE_NOT_EXIST:
                return  # never scanned: there is no trade yet, and the code expires by itself
            if sub_code == TRADE_STATUS_ERROR:
                # Paid (or closed) meanwhile: the notification or the query settles it, and
                # the orders refund what they no longer honour.
                log.warning("alipay close of payment %s: %s", payment.id, exc.detail)
                return
            raise

    async def bill(self, session: AsyncSession, day: date) -> list[BillLine]:
        return await bill.bill_lines(self._gateway, day, self.config.trade_no_prefix)
