"""WeChat Pay's daily trade bill (``bill_type=ALL``), as downloaded, read into rows.

The file is CSV: a header line, one line per payment and per refund with every field led
by a backtick (so spreadsheets keep long numbers as text), then a summary header and a
summary line. Columns are found by their (Chinese) names, as WeChat Pay asks: their order is
not fixed. Amounts are yuan with two decimals; times are China Standard Time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

# China has not observed daylight saving time since 1991: a fixed offset is exact.
CHINA = timezone(timedelta(hours=8), "CST")

TIME = "交易时间"
MCHID = "商户号"
TRANSACTION_ID = "微信订单号"
OUT_TRADE_NO = "商户订单号"
STATE = "交易状态"
CURRENCY = "货币种类"
REFUND_ID = "微信退款单号"
OUT_REFUND_NO = "商户退款单号"
ORDER_AMOUNT = "订单金额"
REFUND_AMOUNT = "申请退款金额"
SUMMARY_FIRST = "总交易单数"
NEEDED = (TIME, TRANSACTION_ID, OUT_TRADE_NO, STATE, ORDER_AMOUNT, REFUND_AMOUNT, OUT_REFUND_NO)


class BillFormatError(ValueError):
    """The file is not a trade bill as documented."""


@dataclass(frozen=True)
class BillRow:
    kind: str  # "payment" or "refund"
    at: datetime  # UTC
    mchid: str
    transaction_id: str
    out_trade_no: str
    amount: int  # fen
    currency: str
    out_refund_no: str | None


def fen(yuan: str) -> int:
    """Yuan with at most two decimals to fen, exactly ("0.01" -> 1)."""
    try:
        value = Decimal(yuan) * 100
    except InvalidOperation as exc:
        raise BillFormatError(f"{yuan!r} is not an amount") from exc
    if value != value.to_integral_value():
        raise BillFormatError(f"{yuan!r} has more than two decimals")
    return int(value)


def _field(value: str) -> str:
    return value[1:] if value.startswith("`") else value


def parse(text: str) -> list[BillRow]:
    """The payment and refund rows of a bill; the summary lines are left out."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        return []
    header = [name.strip() for name in rows[0]]
    missing = [name for name in NEEDED if name not in header]
    if missing:
        raise BillFormatError(f"the bill has no column {', '.join(missing)}")
    column = {name: i for i, name in enumerate(header)}
    out: list[BillRow] = []
    for raw in rows[1:]:
        if not raw or not raw[0].startswith("`"):
            break  # the summary header (no backticks) ends the detail lines
        row = [_field(v).strip() for v in raw]
        if len(row) < len(header):
            raise BillFormatError(f"a bill line has {len(row)} fields, not {len(header)}")

        def get(name: str, row: list[str] = row) -> str:
            return row[column[name]] if name in column else ""

        try:
            local = datetime.strptime(get(TIME), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
        except ValueError as exc:
            raise BillFormatError(f"{get(TIME)!r} is not a bill time") from exc
        refund_no = get(OUT_REFUND_NO)
        is_refund = get(STATE) == "REFUND" or refund_no not in ("", "0")
        if not is_refund and get(STATE) != "SUCCESS":
            continue  # revoked and other trades moved no money
        out.append(
            BillRow(
                kind="refund" if is_refund else "payment",
                at=local.astimezone(UTC),
                mchid=get(MCHID),
                transaction_id=get(TRANSACTION_ID),
                out_trade_no=get(OUT_TRADE_NO),
                amount=fen(get(REFUND_AMOUNT) if is_refund else get(ORDER_AMOUNT)),
                currency=get(CURRENCY) or "CNY",
                out_refund_no=refund_no if is_refund else None,
            )
        )
    return out
