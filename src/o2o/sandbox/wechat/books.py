"""What the simulated WeChat Pay remembers: merchants, trades and refunds (in memory), and
the daily trade bill it writes from them."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from cryptography.hazmat.primitives.asymmetric import rsa

CST = timezone(timedelta(hours=8))  # WeChat Pay's clock: China Standard Time, no DST


def cst(at: datetime) -> str:
    return at.astimezone(CST).replace(microsecond=0).isoformat()


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


@dataclass(frozen=True)
class Merchant:
    """A merchant account: its id, its app, the certificate it signs with, its API v3 key."""

    mchid: str
    appid: str
    serial_no: str
    public_key: rsa.RSAPublicKey
    apiv3_key: bytes


@dataclass
class RefundRecord:
    out_refund_no: str
    refund_id: str
    amount: int
    created_at: datetime
    reason: str = ""


@dataclass
class Trade:
    mchid: str
    appid: str
    out_trade_no: str
    description: str
    notify_url: str
    total: int
    currency: str
    created_at: datetime
    time_expire: datetime | None = None
    code: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    state: str = "NOTPAY"  # SUCCESS, CLOSED, REFUND
    transaction_id: str = ""
    success_time: datetime | None = None
    openid: str = field(default_factory=lambda: "o" + secrets.token_urlsafe(20))
    refunds: list[RefundRecord] = field(default_factory=list)

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds)

    def expired(self, now: datetime) -> bool:
        return self.time_expire is not None and now >= self.time_expire

    def as_transaction(self) -> dict[str, object]:
        """The trade as the query API and the notification's resource describe it."""
        described: dict[str, object] = {
            "appid": self.appid,
            "mchid": self.mchid,
            "out_trade_no": self.out_trade_no,
            "trade_type": "NATIVE",
            "trade_state": self.state,
            "trade_state_desc": STATE_DESC[self.state],
            "attach": "",
            "amount": {"total": self.total, "currency": self.currency, "payer_currency": "CNY"},
        }
        if self.success_time is not None:
            described.update(
                transaction_id=self.transaction_id,
                bank_type="OTHERS",
                success_time=cst(self.success_time),
                payer={"openid": self.openid},
            )
            described["amount"] = {
                "total": self.total,
                "payer_total": self.total,
                "currency": self.currency,
                "payer_currency": "CNY",
            }
        return described


STATE_DESC = {
    "NOTPAY": "订单未支付",
    "SUCCESS": "支付成功",
    "CLOSED": "已关闭",
    "REFUND": "转入退款",
}

BILL_HEADER = [
    "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号",
    "用户标识", "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额",
    "微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态",
    "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注",
]  # fmt: skip
SUMMARY_HEADER = [
    "总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额",
    "订单总金额", "申请退款总金额",
]  # fmt: skip
FEE_PER_MILLE = 6  # 0.6%, WeChat Pay's usual rate


def trade_bill(trades: list[Trade], day: date) -> str | None:
    """The ALL bill of ``day`` (China time): a line per payment on its success time, a line
    per refund on its acceptance time, every field led by a backtick; None if empty."""
    lines: list[tuple[datetime, list[str]]] = []
    for t in trades:
        if t.success_time is not None and t.success_time.astimezone(CST).date() == day:
            fee = round(t.total * FEE_PER_MILLE / 1000)
            lines.append((t.success_time, [
                _t(t.success_time), t.appid, t.mchid, "0", "", t.transaction_id, t.out_trade_no,
                t.openid, "NATIVE", "SUCCESS", "OTHERS", t.currency, yuan(t.total), "0.00",
                "0", "0", "0.00", "0.00", "", "", t.description, "", yuan(fee), "0.60%",
                yuan(t.total), "0.00", "",
            ]))  # fmt: skip
        for r in t.refunds:
            if r.created_at.astimezone(CST).date() == day:
                fee = round(r.amount * FEE_PER_MILLE / 1000)
                lines.append((r.created_at, [
                    _t(r.created_at), t.appid, t.mchid, "0", "", t.transaction_id,
                    t.out_trade_no, t.openid, "NATIVE", "REFUND", "OTHERS", t.currency, "0.00",
                    "0.00", r.refund_id, r.out_refund_no, yuan(r.amount), "0.00", "ORIGINAL",
                    "SUCCESS", t.description, "", yuan(-fee), "0.60%", "0.00", yuan(r.amount),
                    "",
                ]))  # fmt: skip
    if not lines:
        return None
    lines.sort(key=lambda item: item[0])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BILL_HEADER)
    for _at, row in lines:
        writer.writerow([f"`{v}" for v in row])
    paid = [row for _at, row in lines if row[9] == "SUCCESS"]
    refunds = [row for _at, row in lines if row[9] == "REFUND"]
    total_paid = sum(_fen(row[24]) for row in paid)
    total_refunded = sum(_fen(row[25]) for row in refunds)
    fees = sum(_fen(row[22]) for _at, row in lines)
    writer.writerow(SUMMARY_HEADER)
    writer.writerow([
        f"`{len(lines)}", f"`{yuan(total_paid)}", f"`{yuan(total_refunded)}", "`0.00",
        f"`{yuan(fees)}", f"`{yuan(total_paid)}", f"`{yuan(total_refunded)}",
    ])  # fmt: skip
    return out.getvalue()


def _t(at: datetime) -> str:
    return at.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")


def _fen(text: str) -> int:
    negative = text.startswith("-")
    whole, _, cents = text.lstrip("-").partition(".")
    value = int(whole) * 100 + int(cents or 0)
    return -value if negative else value
