"""``wechat``: WeChat Pay API v3 Native payment (the shopper scans a QR with WeChat).

create -> ``POST /v3/pay/transactions/native`` (its ``code_url`` is the QR); notifications ->
``notification.read``; query -> ``GET /v3/pay/transactions/out-trade-no/{no}``; refund ->
``POST /v3/refund/domestic/refunds``; close -> ``POST …/out-trade-no/{no}/close``; bill ->
``GET /v3/bill/tradebill`` then its download. Amounts are fen (CNY's minor unit) throughout.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.payments.exceptions import (
    CurrencyNotSupported,
    InvalidNotification,
    ProviderAnswerInvalid,
    ProviderRefused,
    ProviderUnavailable,
)
from o2o.payments.models import Payment, Refund
from o2o.payments.providers import Ack, BillLine, Charge, Notice
from o2o.payments.wechat import bill as bill_file
from o2o.payments.wechat import notification
from o2o.payments.wechat.config import WechatConfig
from o2o.payments.wechat.gateway import Answer, Gateway
from o2o.payments.wechat.trade_no import out_trade_no, payment_id_of

NAME = "wechat"
CURRENCY = "CNY"
# Error codes after which the call may or may not have been carried out (WeChat Pay's 5xx and
# 429 are already "no answer" in the gateway).
UNKNOWN_OUTCOME = frozenset({"SYSTEM_ERROR", "FREQUENCY_LIMITED"})
# A refund's states that mean it will not be made (the money stays with the merchant).
REFUND_FAILED = frozenset({"CLOSED", "ABNORMAL"})
log = logging.getLogger("o2o.payments.wechat")


def _refused(answer: Answer, what: str) -> ProviderRefused:
    return ProviderRefused(
        f"WeChat Pay refused to {what}: {answer.message or answer.status}"
        + (f" ({answer.code})." if answer.code else "."),
        provider="wechat",
        provider_code=answer.code or None,
    )


def _rfc3339(at: datetime) -> str:
    # WeChat Pay reads times in China Standard Time, to the second.
    return at.astimezone(bill_file.CHINA).replace(microsecond=0).isoformat()


class WechatPayProvider:
    name = NAME

    def __init__(
        self,
        config: WechatConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._clock = clock
        self._gateway = Gateway(config, transport=transport, clock=clock)

    def _number(self, payment: Payment) -> str:
        return out_trade_no(payment.id, self.config.trade_no_prefix)

    async def create(self, session: AsyncSession, payment: Payment) -> Charge:
        if payment.currency != CURRENCY:
            raise CurrencyNotSupported(
                f"WeChat Pay takes CNY only; this payment is in {payment.currency}.",
                field="provider",
            )
        body: dict[str, Any] = {
            "appid": self.config.appid,
            "mchid": self.config.mchid,
            # What the payer reads in WeChat (1 to 127 characters).
            "description": f"O2O订单 {payment.reference.rpartition(':')[2]}"[:127],
            "out_trade_no": self._number(payment),
            "notify_url": self.config.notify_url,
            "amount": {"total": payment.amount, "currency": CURRENCY},
        }
        # Let WeChat Pay refuse a late payment itself when our hold has a real deadline.
        if payment.expires_at.timestamp() > self._clock() + 60:
            body["time_expire"] = _rfc3339(payment.expires_at)
        answer = await self._gateway.call("POST", "/v3/pay/transactions/native", body=body)
        code_url = answer.data.get("code_url")
        if answer.status != 200:
            raise _refused(answer, "create the payment")
        if not isinstance(code_url, str) or not code_url:
            raise ProviderAnswerInvalid(
                "WeChat Pay gave no code_url.", provider=NAME, reason="malformed_response"
            )
        return Charge(qr_payload=code_url)

    def verify(self, headers: Mapping[str, str], body: bytes) -> Notice:
        return notification.read(self.config, headers, body, now=self._clock())

    def acknowledge(self, *, accepted: bool) -> Ack:
        # WeChat Pay stops retrying on 200/204; anything else is retried for about a day.
        if accepted:
            return Ack(204, "")
        return Ack(400, '{"code":"FAIL","message":"rejected"}', "application/json")

    async def query(self, session: AsyncSession, payment: Payment) -> Notice | None:
        answer = await self._gateway.call(
            "GET",
            f"/v3/pay/transactions/out-trade-no/{self._number(payment)}",
            query={"mchid": self.config.mchid},
        )
        if answer.status == 404:
            return None
        if answer.status != 200:
            raise _refused(answer, "report the payment")
        data = answer.data
        if data.get("mchid") != self.config.mchid or data.get("appid") != self.config.appid:
            raise ProviderAnswerInvalid(
                "WeChat Pay answered about another merchant's trade.",
                provider=NAME,
                reason="foreign_merchant",
            )
        try:
            notice = notification.notice_of(data, self.config.trade_no_prefix)
        except InvalidNotification as exc:
            raise ProviderAnswerInvalid(
                exc.detail, provider=NAME, reason="malformed_response"
            ) from exc
        if notice.payment_id != payment.id:
            raise ProviderAnswerInvalid(
                "WeChat Pay answered about another trade.", provider=NAME, reason="mismatch"
            )
        return notice

    async def refund(self, session: AsyncSession, payment: Payment, refund: Refund) -> str:
        body: dict[str, Any] = {
            "out_trade_no": self._number(payment),
            # Our request number: WeChat Pay refunds a repeated out_refund_no only once.
            "out_refund_no": refund.request_no,
            "amount": {"refund": refund.amount, "total": payment.amount, "currency": CURRENCY},
        }
        if refund.reason:
            body["reason"] = refund.reason[:80]
        answer = await self._gateway.call("POST", "/v3/refund/domestic/refunds", body=body)
        refund_id = answer.data.get("refund_id")
        if answer.code in UNKNOWN_OUTCOME:
            # WeChat Pay's own failure: the refund may have been made; ask before deciding.
            raise ProviderUnavailable(
                f"WeChat Pay failed on the refund: {answer.message or answer.code}.",
                provider=NAME,
                reason="system_error",
                provider_code=answer.code,
            )
        if answer.status != 200:
            raise _refused(answer, "refund")
        if answer.data.get("status") in REFUND_FAILED:
            raise _refused(answer, "refund")
        if not isinstance(refund_id, str) or not refund_id:
            raise ProviderAnswerInvalid(
                "WeChat Pay gave no refund_id.", provider=NAME, reason="malformed_response"
            )
        return refund_id

    async def query_refund(
        self, session: AsyncSession, payment: Payment, refund: Refund
    ) -> str | None:
        """``GET /v3/refund/domestic/refunds/{out_refund_no}``: made when WeChat Pay has it
        (SUCCESS, or PROCESSING: accepted, the money on its way, as a refund's own answer);
        ``ProviderRefused`` when CLOSED or ABNORMAL; None when it has no such refund."""
        answer = await self._gateway.call("GET", f"/v3/refund/domestic/refunds/{refund.request_no}")
        if answer.status == 404 and answer.code == "RESOURCE_NOT_EXISTS":
            return None
        if answer.code in UNKNOWN_OUTCOME:
            raise ProviderUnavailable(
                f"WeChat Pay failed on the refund query: {answer.message or answer.code}.",
                provider=NAME,
                reason="system_error",
            )
        if answer.status != 200:
            raise _refused(answer, "report the refund")
        data = answer.data
        if data.get("out_refund_no") != refund.request_no or data.get(
            "out_trade_no"
        ) != self._number(payment):
            raise ProviderAnswerInvalid(
                "WeChat Pay answered about another refund.", provider=NAME, reason="mismatch"
            )
        amount = data.get("amount")
        if not isinstance(amount, dict) or amount.get("refund") != refund.amount:
            raise ProviderAnswerInvalid(
                "WeChat Pay reports another refund amount.", provider=NAME, reason="mismatch"
            )
        status, refund_id = data.get("status"), data.get("refund_id")
        if status in REFUND_FAILED:
            raise ProviderRefused(
                f"WeChat Pay reports refund {refund.request_no} as {status}.",
                provider=NAME,
                provider_code=str(status),
            )
        if status not in ("SUCCESS", "PROCESSING") or not isinstance(refund_id, str):
            raise ProviderAnswerInvalid(
                "WeChat Pay's refund answer is malformed.", provider=NAME, reason="malformed"
            )
        return refund_id

    async def close(self, session: AsyncSession, payment: Payment) -> None:
        """The payment is already closed on our side (the worker calls this after commit).
        WeChat Pay not reached: ``ProviderUnavailable`` (the worker tries again later). A
        definite answer ends it: closed, never created, or paid at the last moment (a late
        notification settles it and the orders refund what they no longer honour);
        ``time_expire`` ends the trade at WeChat Pay anyway."""
        answer = await self._gateway.call(
            "POST",
            f"/v3/pay/transactions/out-trade-no/{self._number(payment)}/close",
            body={"mchid": self.config.mchid},
        )
        if answer.status not in (200, 204) and answer.code != "ORDER_CLOSED":
            log.warning(
                "WeChat Pay did not close payment %s: %s %s",
                payment.id,
                answer.code,
                answer.message,
            )

    async def bill(self, session: AsyncSession, day: date) -> list[BillLine]:
        """The UTC day spans two WeChat Pay bills (China time runs 8 hours ahead): read both
        and keep what happened within the day."""
        start = datetime.combine(day, dtime.min, tzinfo=UTC)
        end = start + timedelta(days=1)
        lines: list[BillLine] = []
        for bill_date in (day, day + timedelta(days=1)):
            for row in await self._bill_rows(bill_date):
                payment_id = payment_id_of(row.out_trade_no, self.config.trade_no_prefix)
                if payment_id is None or not start <= row.at < end:
                    continue  # another system's trade on the same mchid, or another day
                lines.append(
                    BillLine(
                        kind="refund" if row.kind == "refund" else "payment",
                        payment_id=payment_id,
                        provider_trade_no=row.transaction_id,
                        amount=row.amount,
                        currency=row.currency,
                        at=row.at,
                        refund_request_no=row.out_refund_no,
                    )
                )
        return sorted(lines, key=lambda line: (line.at, line.kind))

    async def _bill_rows(self, bill_date: date) -> list[bill_file.BillRow]:
        answer = await self._gateway.call(
            "GET",
            "/v3/bill/tradebill",
            query={"bill_date": bill_date.isoformat(), "bill_type": "ALL"},
        )
        if answer.status == 400 and answer.code == "NO_STATEMENT_EXIST":
            return []  # no payment or refund that day
        if answer.status == 400 and answer.code == "STATEMENT_CREATING":
            raise ProviderUnavailable(
                f"WeChat Pay's bill for {bill_date} is not ready yet; try after 10:00 China time.",
                provider=NAME,
                reason="statement_creating",
            )
        url, digest = answer.data.get("download_url"), answer.data.get("hash_value")
        if answer.status != 200:
            raise _refused(answer, "give the bill")
        if not isinstance(url, str) or not isinstance(digest, str):
            raise ProviderAnswerInvalid(
                "WeChat Pay's bill answer is malformed.", provider=NAME, reason="malformed_response"
            )
        raw = await self._gateway.download(url)
        # The download is unsigned; the SHA-1 in the signed answer vouches for it.
        if not hmac.compare_digest(hashlib.sha1(raw).hexdigest(), digest.lower()):  # noqa: S324
            raise ProviderAnswerInvalid(
                "The downloaded bill does not match its digest.", provider=NAME, reason="bad_digest"
            )
        try:
            return bill_file.parse(raw.decode("utf-8"))
        except (UnicodeDecodeError, bill_file.BillFormatError) as exc:
            raise ProviderAnswerInvalid(
                f"The bill cannot be read: {exc}.", provider=NAME, reason="malformed_bill"
            ) from exc
