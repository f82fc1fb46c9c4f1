"""Short, human-typable, checksummed codes.

Crockford's base 32 (no I, L, O, U; lower case, I/L and O are read as 1 and 0 when typed)
carries 40 random bits in 8 symbols, followed by one check symbol (the value mod 37 in
Crockford's check alphabet), shown as ``ABCD-EFGH-K``. A single mistyped symbol or a swap
of two adjacent ones is caught before any database look-up.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"
DATA_SYMBOLS = 8
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


def _check_symbol(value: int) -> str:
    return CHECK_ALPHABET[value % 37]


def new_code() -> str:
    """A fresh random code in canonical form (no dashes)."""
    value = secrets.randbits(5 * DATA_SYMBOLS)
    symbols = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(DATA_SYMBOLS)))
    return symbols + _check_symbol(value)


def normalize(text: str) -> str | None:
    """The canonical code for what a person typed or a scanner read, or None if it cannot be
    one (wrong length, foreign symbols, failed check)."""
    raw = "".join(text.split()).replace("-", "").upper().translate(_READ_AS)
    if len(raw) != DATA_SYMBOLS + 1:
        return None
    data, check = raw[:DATA_SYMBOLS], raw[DATA_SYMBOLS]
    if any(symbol not in ALPHABET for symbol in data):
        return None
    value = 0
    for symbol in data:
        value = value * 32 + ALPHABET.index(symbol)
    return raw if _check_symbol(value) == check else None


def display(code: str) -> str:
    """``ABCD-EFGH-K``: easier to read aloud and to type."""
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"
