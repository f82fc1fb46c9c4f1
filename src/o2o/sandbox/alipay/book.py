"""The sandbox's trades, in memory, and what the trade methods do to them.

Face-to-face payment opens a trade only when the buyer scans the code: before that a
precreated order is invisible to query, refund and close (``ACQ.TRADE_NOT_EXIST``) and yet
payable until its ``time_expire``, as at Alipay.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

CST = timezone(timedelta(hours=8))  # Alipay's clock: China Standard Time, no DST
STAMP = "%Y-%m-%d %H:%M:%S"
PRECREATED = "PRECREATED"  # not a trade status Alipay shows: the code is not scanned yet
WAIT, SUCCESS, CLOSED = "WAIT_BUYER_PAY", "TRADE_SUCCESS", "TRADE_CLOSED"
_ORDER_NO = re.compile(r"[A-Za-z0-9_]{1,64}")
_PRICE = re.compile(r"[0-9]{1,9}(\.[0-9]{1,2})?")
MAX_FEN = 10_000_000_000  # 100,000,000.00 yuan


class Refusal(Exception):
    """A call Alipay answers with a failure code."""

    def __init__(
        self, sub_code: str, sub_msg: str, *, code: str = "40004", msg: str = "Business Failed"
    ) -> None:
        super().__init__(f"{sub_code}: {sub_msg}")
        self.node = {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}


def invalid(what: str) -> Refusal:
    return Refusal("ACQ.INVALID_PARAMETER", f"参数无效 ({what})")


def fen(value: object, what: str) -> int:
    """An amount in yuan (a string of at most two decimals) in fen."""
    if not isinstance(value, str) or not _PRICE.fullmatch(value):
        raise invalid(what)
    try:
        amount = int(Decimal(value) * 100)
    except InvalidOperation as exc:
        raise invalid(what) from exc
    if not 1 <= amount <= MAX_FEN:
        raise invalid(what)
    return amount


def yuan(amount: int) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"


def cst(at: datetime) -> str:
    return at.astimezone(CST).strftime(STAMP)


@dataclass
class Refund:
    out_request_no: str
    amount: int
    at: datetime
    reason: str = ""


@dataclass
class Trade:
    app_id: str
    out_trade_no: str
    amount: int
    subject: str
    notify_url: str
    code: str
    created_at: datetime
    time_expire: datetime | None = None
    trade_no: str = ""
    status: str = PRECREATED
    scanned_at: datetime | None = None
    paid_at: datetime | None = None
    closed_at: datetime | None = None
    refunds: dict[str, Refund] = field(default_factory=dict)

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds.values())

    def expire(self, now: datetime) -> None:
        if self.status in (PRECREATED, WAIT) and self.time_expire and now >= self.time_expire:
            self.status, self.closed_at = CLOSED, self.time_expire

    @property
    def visible(self) -> bool:
        """Whether Alipay knows a trade (the code was scanned)."""
        return self.status != PRECREATED and self.trade_no != ""


class Book:
    def __init__(self) -> None:
        self.trades: dict[tuple[str, str], Trade] = {}
        self.by_code: dict[str, Trade] = {}

    # -- lookup ----------------------------------------------------------------------------
    def find(self, app_id: str, biz: dict[str, Any], now: datetime) -> Trade:
        number, trade_no = biz.get("out_trade_no"), biz.get("trade_no")
        trade = None
        if isinstance(number, str) and number:
            trade = self.trades.get((app_id, number))
        elif isinstance(trade_no, str) and trade_no:
            trade = next(
                (t for t in self.trades.values() if t.app_id == app_id and t.trade_no == trade_no),
                None,
            )
        else:
            raise invalid("out_trade_no or trade_no")
        if trade is not None:
            trade.expire(now)
        if trade is None or not trade.visible:
            raise Refusal("ACQ.TRADE_NOT_EXIST", "交易不存在")
        return trade

    # -- methods ---------------------------------------------------------------------------
    def precreate(
        self, app_id: str, biz: dict[str, Any], *, notify_url: str, now: datetime
    ) -> Trade:
        number = biz.get("out_trade_no")
        if not isinstance(number, str) or not _ORDER_NO.fullmatch(number):
            raise invalid("out_trade_no")
        amount = fen(biz.get("total_amount"), "total_amount")
        subject = biz.get("subject")
        if not isinstance(subject, str) or not 0 < len(subject) <= 256:
            raise invalid("subject")
        expire = None
        if "time_expire" in biz:
            try:
                expire = datetime.strptime(str(biz["time_expire"]), STAMP).replace(tzinfo=CST)
            except ValueError as exc:
                raise invalid("time_expire") from exc
        known = self.trades.get((app_id, number))
        if known is not None:
            known.expire(now)
            if known.status in (SUCCESS, "TRADE_FINISHED"):
                raise Refusal("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
            if known.status == CLOSED:
                raise Refusal("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
            if (known.amount, known.subject) != (amount, subject):
                raise Refusal("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
            return known  # the same order asked again: the same code
        trade = Trade(
            app_id=app_id,
            out_trade_no=number,
            amount=amount,
            subject=subject,
            notify_url=notify_url,
            code=secrets.token_urlsafe(12),
            created_at=now,
            time_expire=expire,
        )
        self.trades[(app_id, number)] = trade
        self.by_code[trade.code] = trade
        return trade

    def scan(self, trade: Trade, now: datetime) -> None:
        """The buyer opens the code in the app: the trade now exists, waiting for payment."""
        trade.expire(now)
        if trade.status == PRECREATED:
            stamp = now.astimezone(CST).strftime("%Y%m%d")
            trade.trade_no = f"{stamp}22001{secrets.randbelow(10**15):015d}"
            trade.status, trade.scanned_at = WAIT, now

    def pay(self, trade: Trade, now: datetime) -> bool:
        """The buyer pays; False if it was paid already. Refusal if it cannot be paid."""
        self.scan(trade, now)
        if trade.status == SUCCESS:
            return False
        if trade.status != WAIT:
            raise Refusal("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
        trade.status, trade.paid_at = SUCCESS, now
        return True

    def refund(self, app_id: str, biz: dict[str, Any], now: datetime) -> tuple[Trade, Refund, bool]:
        """The trade, its refund for ``out_request_no``, and whether it was made just now (a
        repeated request number is answered with the refund made before)."""
        trade = self.find(app_id, biz, now)
        request_no = biz.get("out_request_no") or trade.out_trade_no
        if not isinstance(request_no, str) or not _ORDER_NO.fullmatch(request_no):
            raise invalid("out_request_no")
        amount = fen(biz.get("refund_amount"), "refund_amount")
        if request_no in trade.refunds:
            return trade, trade.refunds[request_no], False
        if trade.status != SUCCESS:
            raise Refusal("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        if trade.refunded + amount > trade.amount:
            raise Refusal("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
        reason = biz.get("refund_reason")
        made = Refund(request_no, amount, now, reason if isinstance(reason, str) else "")
        trade.refunds[request_no] = made
        if trade.refunded == trade.amount:  # all given back: the trade is over
            trade.status, trade.closed_at = CLOSED, now
        return trade, made, True

    def close(self, app_id: str, biz: dict[str, Any], now: datetime) -> Trade:
        trade = self.find(app_id, biz, now)
        if trade.status == WAIT:
            trade.status, trade.closed_at = CLOSED, now
        elif trade.status != CLOSED:
            raise Refusal("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        return trade
