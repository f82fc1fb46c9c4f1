"""Our numbers as WeChat Pay sees them: ``out_trade_no`` is the payment id behind a prefix."""

from __future__ import annotations

import re

PREFIX = "O2O"
# WeChat Pay takes 6 to 32 of [0-9A-Za-z_-|*]; a BIGINT id is at most 19 digits.
_OURS = re.compile(rf"{PREFIX}(\d{{8,19}})")


def out_trade_no(payment_id: int) -> str:
    return f"{PREFIX}{payment_id:08d}"


def payment_id_of(out_trade_no: str) -> int | None:
    """Our payment id, or None for a number we never made (another system of the merchant's
    on the same mchid, or a forgery)."""
    match = _OURS.fullmatch(out_trade_no)
    return int(match.group(1)) if match else None
