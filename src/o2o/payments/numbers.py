"""The numbers this installation sends payment providers: each starts with the installation's
prefix (``O2O_TRADE_NO_PREFIX``), so installations sharing one merchant account never send
the same number, and a number with another prefix is never read as one of our payments."""

from __future__ import annotations

import secrets

DEFAULT_PREFIX = "O2O"
# A refund number is the prefix, "R" and 16 hex digits: at most 25 characters, within every
# provider's limit (Alipay's out_request_no and WeChat Pay's out_refund_no: 64).
REFUND_TOKEN_BYTES = 8


def refund_number(prefix: str = DEFAULT_PREFIX) -> str:
    """A new refund request number, fixed when the refund is decided and sent unchanged on
    every try (the provider makes a repeated number once)."""
    return f"{prefix}R{secrets.token_hex(REFUND_TOKEN_BYTES)}"


def after_prefix(number: str, prefix: str) -> str | None:
    """What follows ``prefix`` in ``number``, or None when the number is not ours."""
    return number[len(prefix) :] if number.startswith(prefix) else None
