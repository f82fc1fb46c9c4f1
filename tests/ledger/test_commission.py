"""Commission arithmetic: half-up per order, and refunds that give back exactly what was
charged, to the minor unit, however a refund is split."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.ledger import commission


@pytest.mark.parametrize(
    ("total", "bps", "expected"),
    [
        (10_000, 500, 500),  # 5% of ¥100.00
        (19_900, 500, 995),
        (10, 500, 1),  # 0.5 rounds up
        (9, 500, 0),  # 0.45 rounds down
        (30, 500, 2),  # 1.5 rounds up
        (1, 10_000, 1),  # all of it
        (12_345, 0, 0),
        (0, 500, 0),
        (33_333, 333, 1110),  # 1109.9889 -> 1110
    ],
)
def test_charge_rounds_half_up_per_order(total: int, bps: int, expected: int) -> None:
    assert commission.charge(total, bps) == expected


def test_effective_rate_is_the_merchants_or_the_platforms() -> None:
    assert commission.effective_bps(None, 500) == 500
    assert commission.effective_bps(0, 500) == 0  # a merchant at 0% is not "no rate"
    assert commission.effective_bps(320, 500) == 320


def test_a_full_refund_gives_back_exactly_what_was_charged() -> None:
    charged = commission.charge(10_001, 750)  # 750.075 -> 750
    assert (
        commission.reversal(commission=charged, total=10_001, refunded_before=0, amount=10_001)
        == charged
    )


def test_partial_refunds_give_back_in_proportion_cumulatively() -> None:
    # ¥0.30 at 5% is charged 2 (1.5 rounded up); three refunds of 10 give back 1, 0, 1
    # (cumulative 0.5 -> 1, 1.0 -> 1, 1.5 -> 2): never one too many, exactly 2 in the end.
    steps = []
    refunded = 0
    for amount in (10, 10, 10):
        steps.append(
            commission.reversal(commission=2, total=30, refunded_before=refunded, amount=amount)
        )
        refunded += amount
    assert steps == [1, 0, 1]


@given(
    total=st.integers(min_value=1, max_value=10**9),
    bps=st.integers(min_value=0, max_value=10_000),
    cuts=st.lists(st.floats(min_value=0, max_value=1, allow_nan=False), max_size=8),
)
def test_any_split_of_a_full_refund_reverses_exactly(
    total: int, bps: int, cuts: list[float]
) -> None:
    charged = commission.charge(total, bps)
    assert 0 <= charged <= total
    points = sorted({0, total, *(int(c * total) for c in cuts)})
    given_back = 0
    for before, after in itertools.pairwise(points):
        share = commission.reversal(
            commission=charged, total=total, refunded_before=before, amount=after - before
        )
        # each refund's commission share lies within the refund, and the merchant's share too
        assert 0 <= share <= after - before
        given_back += share
        assert given_back <= charged
    assert given_back == charged


@given(
    total=st.integers(min_value=1, max_value=10**7),
    bps=st.integers(min_value=0, max_value=10_000),
    refunded=st.integers(min_value=0, max_value=10**7),
)
def test_cumulative_reversal_is_the_rounded_proportion(total: int, bps: int, refunded: int) -> None:
    charged = commission.charge(total, bps)
    refunded = min(refunded, total)
    got = commission.reversed_after(commission=charged, total=total, refunded=refunded)
    exact = charged * refunded / total
    assert abs(got - exact) <= 0.5
    if (2 * charged * refunded) % (2 * total) == total:  # exactly half: rounds up
        assert got > exact
