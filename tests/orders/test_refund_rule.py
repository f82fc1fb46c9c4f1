"""The refund rule as arithmetic: partial returns never refund more than the total, and
returning everything refunds exactly the total, whatever the prices, discount and fee."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from o2o.orders.refund_rule import owed, refund_for

# Lines as (unit price, qty); the order's discount as a fraction of the subtotal.
lines_st = st.lists(st.tuples(st.integers(0, 100_000), st.integers(1, 6)), min_size=1, max_size=5)


@st.composite
def orders_and_returns(
    draw: st.DrawFn,
) -> tuple[list[tuple[int, int]], int, int, list[tuple[int, int]]]:
    """An order and a sequence of returns (line index, qty) that never exceeds what was sold,
    sometimes stopping short of everything."""
    lines = draw(lines_st)
    subtotal = sum(price * qty for price, qty in lines)
    discount = draw(st.integers(0, subtotal))
    fee = draw(st.integers(0, 2_000))
    units = [(i, 1) for i, (_, qty) in enumerate(lines) for _ in range(qty)]
    order = draw(st.permutations(units))
    steps: list[tuple[int, int]] = []
    for i, one in order:  # group neighbouring units of a line into one partial return
        if steps and steps[-1][0] == i and draw(st.booleans()):
            steps[-1] = (i, steps[-1][1] + one)
        else:
            steps.append((i, one))
    stop = draw(st.integers(0, len(steps)))
    return lines, discount, fee, steps[: stop if draw(st.booleans()) else len(steps)]


def _refunds(
    lines: list[tuple[int, int]], discount: int, fee: int, steps: list[tuple[int, int]]
) -> list[int]:
    subtotal = sum(price * qty for price, qty in lines)
    left = [qty for _, qty in lines]
    returned = 0
    out = []
    for i, qty in steps:
        left[i] -= qty
        before, returned = returned, returned + lines[i][0] * qty
        out.append(
            refund_for(
                subtotal=subtotal,
                discount=discount,
                fee=fee,
                returned_before=before,
                returned_after=returned,
                all_back_after=not any(left),
            )
        )
    return out


@given(orders_and_returns())
def test_partial_returns_never_refund_more_than_the_total(
    case: tuple[list[tuple[int, int]], int, int, list[tuple[int, int]]],
) -> None:
    lines, discount, fee, steps = case
    subtotal = sum(price * qty for price, qty in lines)
    total = subtotal - discount + fee
    refunds = _refunds(lines, discount, fee, steps)
    assert all(r >= 0 for r in refunds)
    assert sum(refunds) <= total
    everything = sum(qty for _, qty in steps) == sum(qty for _, qty in lines)
    if everything:
        assert sum(refunds) == total
    else:
        # Short of everything: the fee stays, and no more than the goods' net value.
        assert sum(refunds) <= subtotal - discount


@given(lines_st, st.data())
def test_each_unit_refunds_its_price_less_its_share_of_the_discount(
    lines: list[tuple[int, int]], data: st.DataObject
) -> None:
    subtotal = sum(price * qty for price, qty in lines)
    discount = data.draw(st.integers(0, subtotal))
    price = lines[0][0]
    first = refund_for(
        subtotal=subtotal,
        discount=discount,
        fee=0,
        returned_before=0,
        returned_after=price,
        all_back_after=False,
    )
    exact = price * (subtotal - discount) / subtotal if subtotal else 0
    assert exact - 1 < first <= exact


def test_the_worked_example() -> None:
    # Two jackets at 199.00 and one at 99.00, 50.00 off, 6.00 delivery: total 453.00.
    subtotal, discount, fee = 2 * 19900 + 9900, 5000, 600
    assert subtotal - discount + fee == 45300
    one_jacket = refund_for(
        subtotal=subtotal,
        discount=discount,
        fee=fee,
        returned_before=0,
        returned_after=19900,
        all_back_after=False,
    )
    assert one_jacket == 17897  # 199.00 less 20.03, its share of the 50.00 off rounded up
    rest = refund_for(
        subtotal=subtotal,
        discount=discount,
        fee=fee,
        returned_before=19900,
        returned_after=subtotal,
        all_back_after=True,
    )
    assert one_jacket + rest == 45300


def test_free_goods_refund_nothing_until_the_last_unit_brings_the_fee_back() -> None:
    assert owed(subtotal=0, discount=0, fee=600, returned=0, all_back=False) == 0
    assert owed(subtotal=0, discount=0, fee=600, returned=0, all_back=True) == 600
