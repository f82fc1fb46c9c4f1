"""Alipay's trade bill (``bill_type=trade``): a zip of GBK CSV files, the detail file listing
each payment (业务类型 交易) and refund (退款) of one Beijing day.

Columns are found by their header, not their position (Alipay has added columns over the
years); ``#`` lines around the table are comments. A day in UTC spans two Beijing days, so a
UTC day's lines come from two bills."""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from datetime import UTC, date, datetime, time, timedelta

from o2o.payments.alipay.codec import BEIJING, CURRENCY, parse_beijing, parse_yuan, payment_id_of
from o2o.payments.alipay.gateway import Gateway
from o2o.payments.exceptions import ProviderAnswerInvalid
from o2o.payments.numbers import DEFAULT_PREFIX
from o2o.payments.providers import BillLine

log = logging.getLogger("o2o.payments.alipay")
METHOD = "alipay.data.dataservice.bill.downloadurl.query"
DETAIL = "业务明细"
SUMMARY = "汇总"
TRADE_NO, OUT_TRADE_NO, KIND, FINISHED = "支付宝交易号", "商户订单号", "业务类型", "完成时间"
AMOUNT, REQUEST_NO = "订单金额（元）", "退款批次号/请求号"
KINDS = {"交易": "payment", "退款": "refund"}


def _member_name(info: zipfile.ZipInfo) -> str:
    # Names without the UTF-8 flag are in the archiver's code page: GBK at Alipay.
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def detail_csv(data: bytes) -> str:
    """The text of the detail file in a downloaded bill."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [
                info
                for info in archive.infolist()
                if _member_name(info).endswith(".csv")
                and DETAIL in _member_name(info)
                and SUMMARY not in _member_name(info)
            ]
            if len(names) != 1:
                raise ProviderAnswerInvalid("Alipay's bill has no single detail file.")
            raw = archive.read(names[0])
        return raw.decode("gb18030")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, UnicodeDecodeError) as exc:
        raise ProviderAnswerInvalid("Alipay's bill is not a zip of GBK text.") from exc


def parse_detail(text: str, prefix: str = DEFAULT_PREFIX) -> list[BillLine]:
    rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
    if not rows:
        raise ProviderAnswerInvalid("Alipay's bill has no table.")
    header = [cell.strip() for cell in rows[0]]
    try:
        at = {name: header.index(name) for name in (TRADE_NO, OUT_TRADE_NO, KIND, FINISHED)}
        at[AMOUNT], at[REQUEST_NO] = header.index(AMOUNT), header.index(REQUEST_NO)
    except ValueError as exc:
        raise ProviderAnswerInvalid(f"Alipay's bill lacks a column ({exc}).") from exc
    lines: list[BillLine] = []
    for row in rows[1:]:
        cell = {name: row[i].strip() if i < len(row) else "" for name, i in at.items()}
        payment_id = payment_id_of(cell[OUT_TRADE_NO], prefix)
        kind = KINDS.get(cell[KIND])
        if payment_id is None or kind is None:
            # Sales the account made elsewhere (another system, the Alipay app) are not ours.
            log.debug("bill line not ours: %s %s", cell[OUT_TRADE_NO], cell[KIND])
            continue
        try:
            amount = abs(parse_yuan(cell[AMOUNT], signed=True))
            when = parse_beijing(cell[FINISHED])
        except ValueError as exc:
            raise ProviderAnswerInvalid(f"Alipay's bill has a bad line: {row[:6]}") from exc
        lines.append(
            BillLine(
                kind="payment" if kind == "payment" else "refund",
                payment_id=payment_id,
                provider_trade_no=cell[TRADE_NO],
                amount=amount,
                currency=CURRENCY,
                at=when,
                refund_request_no=(cell[REQUEST_NO] or None) if kind == "refund" else None,
            )
        )
    return lines


async def bill_lines(gateway: Gateway, day: date, prefix: str = DEFAULT_PREFIX) -> list[BillLine]:
    """The payments and refunds Alipay lists for ``day`` (UTC), oldest first."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = start + timedelta(days=1)
    lines: list[BillLine] = []
    for beijing_day in (start.astimezone(BEIJING).date(), end.astimezone(BEIJING).date()):
        node = await gateway.call(METHOD, {"bill_type": "trade", "bill_date": str(beijing_day)})
        url = node.get("bill_download_url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ProviderAnswerInvalid("Alipay's answer has no bill download URL.")
        text = detail_csv(await gateway.download(url))
        lines += [line for line in parse_detail(text, prefix) if start <= line.at < end]
    return sorted(lines, key=lambda line: line.at)
