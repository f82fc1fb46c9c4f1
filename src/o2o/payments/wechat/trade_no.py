"""Our numbers as WeChat Pay sees them: ``out_trade_no`` is the installation's prefix and the
payment id, at least 8 digits."""

from __future__ import annotations

import re

from o2o.payments.numbers import DEFAULT_PREFIX, after_prefix

PREFIX = DEFAULT_PREFIX
# WeChat Pay takes 6 to 32 of [0-9A-Za-z_-|*]: a prefix of at most 8 and a BIGINT id (at most
# 19 digits) make at most 27.
MAX_LENGTH = 32
_ID = re.compile(r"\d{8,19}")


def out_trade_no(payment_id: int, prefix: str = DEFAULT_PREFIX) -> str:
    number = f"{prefix}{payment_id:08d}"
    if len(number) > MAX_LENGTH:
        raise ValueError(f"{number!r} is longer than WeChat Pay's {MAX_LENGTH} characters")
    return number


def payment_id_of(out_trade_no: str, prefix: str = DEFAULT_PREFIX) -> int | None:
    """Our payment id, or None for a number we never made (another installation or system of
    the merchant's on the same mchid, or a forgery)."""
    rest = after_prefix(out_trade_no, prefix)
    if rest is None or not _ID.fullmatch(rest):
        return None
    payment_id = int(rest)
    return payment_id if payment_id < 2**63 else None
