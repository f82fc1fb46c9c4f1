"""How our values are written in Alipay's terms: yuan strings, merchant order numbers and
Beijing time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from o2o.payments.numbers import DEFAULT_PREFIX, after_prefix

CURRENCY = "CNY"
# Alipay takes 0.01 to 100,000,000.00 yuan per trade.
MAX_AMOUNT = 100_000_000_00
# China has kept UTC+8 without daylight saving since 1991: a fixed offset needs no tz database.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Our payment id behind the installation's prefix: digits alone could be mistaken for another
# system's numbers on a merchant account that also sells elsewhere, and another installation
# on the same account has another prefix.
_PAYMENT_ID = re.compile(r"[1-9][0-9]{0,18}")
# Alipay's out_trade_no and out_request_no take at most 64 letters, digits and underscores.
MAX_NUMBER = 64
_YUAN = re.compile(r"(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?")
_SIGNED_YUAN = re.compile(r"-?(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?")
_CENT = Decimal("0.01")
MAX_ID = 2**63 - 1


def to_yuan(minor: int) -> str:
    """``1`` -> ``"0.01"``, ``123456`` -> ``"1234.56"``: exact, always two decimals."""
    if minor < 0:
        raise ValueError("an amount is never negative")
    return str(Decimal(minor).scaleb(-2).quantize(_CENT))


def parse_yuan(text: str, *, signed: bool = False) -> int:
    """Minor units of a yuan string (at most two decimals, no exponent, no spaces); exact.
    ValueError for anything else."""
    if not (_SIGNED_YUAN if signed else _YUAN).fullmatch(text):
        raise ValueError(f"not a yuan amount: {text[:40]!r}")
    return int(Decimal(text).scaleb(2))


def out_trade_no(payment_id: int, prefix: str = DEFAULT_PREFIX) -> str:
    number = f"{prefix}{payment_id}"
    if len(number) > MAX_NUMBER:
        raise ValueError(f"{number!r} is longer than Alipay's {MAX_NUMBER} characters")
    return number


def payment_id_of(number: str, prefix: str = DEFAULT_PREFIX) -> int | None:
    """Our payment id in a merchant order number we made (with our prefix); None for anybody
    else's."""
    rest = after_prefix(number, prefix)
    if rest is None or not _PAYMENT_ID.fullmatch(rest):
        return None
    payment_id = int(rest)
    # Beyond BIGINT the database driver would fail: such a number is not ours either.
    return payment_id if payment_id <= MAX_ID else None


def beijing(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime(TIME_FORMAT)


def parse_beijing(text: str) -> datetime:
    """A time as Alipay writes it (Beijing time, to the second), in UTC; ValueError if not."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=BEIJING).astimezone(UTC)
