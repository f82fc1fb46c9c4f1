"""The comparison behind the daily reconciliation: each kind of difference, the matched
count and both sides' totals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

from o2o.orders.reconcile_compare import Booked, DifferenceKind, Report, compare
from o2o.payments.providers import BillLine

AT = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)


def report() -> Report:
    return Report("alipay", date(2026, 5, 1), "Asia/Shanghai", AT, AT + timedelta(days=1))


def paid(
    payment_id: int,
    amount: int,
    *,
    currency: str = "CNY",
    status: str = "succeeded",
    in_window: bool = True,
    at: datetime = AT,
) -> Booked:
    return Booked("payment", payment_id, None, amount, currency, at, status, in_window)


def line(payment_id: int, amount: int, no: str | None = None) -> BillLine:
    kind: Literal["payment", "refund"] = "refund" if no else "payment"
    return BillLine(kind, payment_id, f"T{payment_id}", amount, "CNY", AT, refund_request_no=no)


def kinds(r: Report) -> list[tuple[DifferenceKind, int, int | None, int | None]]:
    return [(d.kind, d.payment_id, d.ours, d.theirs) for d in r.differences]


def test_the_same_movements_on_both_sides_match() -> None:
    books = [paid(1, 500), Booked("refund", 1, "r1", 200, "CNY", AT)]
    found = compare(report(), books, [line(1, 500), line(1, 200, "r1")])
    assert found.reconciled
    assert found.matched == 2
    ours, theirs = found.ours["CNY"], found.theirs["CNY"]
    assert (ours.payments, ours.payments_amount, ours.refunds, ours.refunds_amount) == (
        1,
        500,
        1,
        200,
    )
    assert (theirs.payments, theirs.payments_amount, theirs.refunds, theirs.net) == (1, 500, 1, 300)


def test_each_kind_of_difference_is_named() -> None:
    books = [
        paid(1, 500),  # not on the bill
        paid(2, 700),  # the bill says 710
        paid(3, 300, currency="USD"),  # the bill says CNY
        paid(4, 400, status="pending", in_window=False),  # never marked paid here
        paid(5, 900, in_window=False, at=AT - timedelta(days=1)),  # booked the day before
    ]
    bill = [line(2, 710), line(3, 300), line(4, 400), line(5, 900), line(6, 100)]
    found = compare(report(), books, bill)
    assert kinds(found) == [
        (DifferenceKind.MISSING_AT_PROVIDER, 1, 500, None),
        (DifferenceKind.AMOUNT, 2, 700, 710),
        (DifferenceKind.CURRENCY, 3, 300, 300),
        (DifferenceKind.STATUS, 4, 400, 400),
        (DifferenceKind.OTHER_DAY, 5, 900, 900),
        (DifferenceKind.MISSING_IN_BOOKS, 6, None, 100),
    ]
    assert found.matched == 0
    assert not found.reconciled
    # our side counts what moved money on the day; the bill counts every line
    assert {c: (t.payments, t.payments_amount) for c, t in found.ours.items()} == {
        "CNY": (2, 1200),
        "USD": (1, 300),
    }
    assert (found.theirs["CNY"].payments, found.theirs["CNY"].payments_amount) == (5, 2410)


def test_refunds_pair_by_request_number_and_a_pending_one_is_no_difference_yet() -> None:
    books = [
        paid(1, 500),
        Booked("refund", 1, "r1", 100, "CNY", AT),
        Booked("refund", 1, "r2", 50, "CNY", AT, status="pending"),
    ]
    bill = [line(1, 500), line(1, 100, "r9"), line(1, 100, "r1")]
    found = compare(report(), books, bill)
    assert [(d.kind, d.movement, d.request_no) for d in found.differences] == [
        (DifferenceKind.MISSING_IN_BOOKS, "refund", "r9")
    ]
    assert found.matched == 2
    assert found.ours["CNY"].refunds == 1  # the pending one moved no money yet


def test_a_line_listed_twice_is_a_difference() -> None:
    found = compare(report(), [paid(1, 500)], [line(1, 500), line(1, 500)])
    assert kinds(found) == [(DifferenceKind.MISSING_IN_BOOKS, 1, None, 500)]
    assert found.differences[0].detail == "listed twice on the bill"
    assert found.matched == 1
