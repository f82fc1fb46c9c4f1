"""The trade bill Alipay serves for a day (``bill_type=trade``): a zip holding the detail and
summary CSV files, GBK-encoded, ``#`` comment lines around the table, one line per payment
(业务类型 交易) and per refund (退款, negative amounts), times in Beijing time."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from datetime import date, datetime

from o2o.sandbox.alipay.book import CST, STAMP, Trade, cst, yuan

COLUMNS = [
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
]
RULE = "#-----------------------------------------"


def _on(day: date, at: datetime | None) -> bool:
    return at is not None and at.astimezone(CST).date() == day


def _row(trade: Trade, kind: str, amount: int, at: datetime, request_no: str) -> list[str]:
    zero = "0.00"
    # Alipay ends number-like cells with a tab so spreadsheets keep them as text.
    return [
        f"{trade.trade_no}\t",
        f"{trade.out_trade_no}\t",
        kind,
        trade.subject,
        cst(trade.scanned_at or trade.created_at),
        cst(at),
        "",
        "",
        "",
        "",
        "sandbox***@example.com",
        yuan(amount),
        yuan(amount),
        zero,
        zero,
        zero,
        zero,
        zero,
        "",
        zero,
        zero,
        f"{request_no}\t" if request_no else "",
        zero,
        zero,
        "",
    ]


def detail_rows(trades: Iterable[Trade], day: date) -> list[list[str]]:
    rows: list[tuple[datetime, list[str]]] = []
    for trade in trades:
        if trade.paid_at is not None and _on(day, trade.paid_at):
            rows.append((trade.paid_at, _row(trade, "交易", trade.amount, trade.paid_at, "")))
        for refund in trade.refunds.values():
            if _on(day, refund.at):
                rows.append(
                    (
                        refund.at,
                        _row(trade, "退款", -refund.amount, refund.at, refund.out_request_no),
                    )
                )
    return [row for _, row in sorted(rows, key=lambda pair: pair[0])]


def _csv(lines: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(lines)
    return out.getvalue()


def bill_zip(*, account: str, day: date, trades: Iterable[Trade], now: datetime) -> bytes:
    trades = list(trades)
    rows = detail_rows(trades, day)
    payments = [r for r in rows if r[2] == "交易"]
    refunds = [r for r in rows if r[2] == "退款"]
    span = f"[{day:%Y年%m月%d日} 00:00:00]"
    head = [
        ["#支付宝业务明细查询"],
        [f"#账号：[{account}]"],
        [f"#起始日期：{span}   终止日期：{span.replace('00:00:00', '23:59:59')}"],
        [f"{RULE}业务明细列表{RULE[1:]}"],
    ]
    tail = [
        [f"{RULE}业务明细列表结束{RULE[1:]}"],
        [f"#交易合计：{len(payments)}笔，退款合计：{len(refunds)}笔"],
        [f"#导出时间：[{now.astimezone(CST).strftime(STAMP)}]"],
    ]
    detail = _csv([*head, COLUMNS, *rows, *tail])
    total = sum(t.amount for t in trades if _on(day, t.paid_at))
    back = sum(r.amount for t in trades for r in t.refunds.values() if _on(day, r.at))
    summary = _csv(
        [
            ["#支付宝业务汇总查询"],
            ["门店编号", "门店名称", "交易订单总笔数", "退款订单总笔数", "订单金额（元）"],
            ["合计", "", str(len(payments)), str(len(refunds)), yuan(total - back)],
        ]
    )
    stem = f"{account}_{day:%Y%m%d}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}_业务明细.csv", detail.encode("gbk", "replace"))
        archive.writestr(f"{stem}_业务明细(汇总).csv", summary.encode("gbk", "replace"))
    return buffer.getvalue()
