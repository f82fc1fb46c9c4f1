"""Pickup codes: typable, checksummed, and forgiving of how people type them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from o2o.redemption import codes


def test_new_codes_are_canonical_and_valid() -> None:
    for _ in range(200):
        code = codes.new_code()
        assert len(code) == 9
        assert codes.normalize(code) == code
        assert codes.normalize(codes.display(code).lower()) == code


def test_reads_i_l_o_as_digits() -> None:
    code = "0123456789"[:8]
    value = int("".join(str(c) for c in code), 32)
    check = codes.CHECK_ALPHABET[value % 37]
    typed = ("O1234567" + check).lower().replace("1", "l", 1)
    assert codes.normalize(typed) == "01234567" + check


@given(st.integers(min_value=0, max_value=7), st.sampled_from(codes.ALPHABET))
def test_a_single_wrong_symbol_is_caught(position: int, replacement: str) -> None:
    code = codes.new_code()
    if code[position] == replacement:
        return
    typo = code[:position] + replacement + code[position + 1 :]
    assert codes.normalize(typo) is None


def test_adjacent_swap_is_caught() -> None:
    for _ in range(300):
        code = codes.new_code()
        for i in range(7):
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
                assert codes.normalize(swapped) is None


def test_rejects_wrong_length_and_symbols() -> None:
    assert codes.normalize("") is None
    assert codes.normalize("ABCD") is None
    assert codes.normalize("ABCD-EFGH-U?") is None
    assert codes.normalize("ABCD EFGH !") is None
