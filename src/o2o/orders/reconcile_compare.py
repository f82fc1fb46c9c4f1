"""Our books against a provider's bill for one day: the comparison itself, on plain values.

Each side is a list of money movements keyed by what both sides know: a payment by our
payment id, a refund by our payment id and its request number (the number the provider was
given to make a retried refund a no-op). ``compare`` pairs them and names every difference;
``o2o.orders.reconciliation`` gathers the two sides from the database and the provider.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from o2o.payments.providers import BillLine

SUCCEEDED = "succeeded"

Key = tuple[str, int, str | None]


class DifferenceKind(enum.StrEnum):
    MISSING_AT_PROVIDER = "missing_at_provider"  # in our books, not on the bill
    MISSING_IN_BOOKS = "missing_in_books"  # on the bill, unknown to us
    AMOUNT = "amount_differs"
    CURRENCY = "currency_differs"
    STATUS = "status_differs"  # on the bill, but not succeeded in our books
    OTHER_DAY = "booked_another_day"  # on the bill, in our books on another day


@dataclass(frozen=True)
class Booked:
    """A payment or refund as our books hold it. ``status`` is the record's own status
    (``succeeded`` when money moved); ``in_window`` says whether it falls on the day."""

    kind: str  # "payment" or "refund"
    payment_id: int
    request_no: str | None
    amount: int
    currency: str
    at: datetime
    status: str = SUCCEEDED
    in_window: bool = True
    in_ledger: bool = True

    @property
    def key(self) -> Key:
        return (self.kind, self.payment_id, self.request_no if self.kind == "refund" else None)


@dataclass(frozen=True)
class Difference:
    kind: DifferenceKind
    movement: str  # "payment" or "refund"
    payment_id: int
    request_no: str | None
    ours: int | None  # amount in our books (None: not there)
    theirs: int | None  # amount on the bill (None: not there)
    currency: str
    ours_status: str | None = None
    provider_trade_no: str | None = None
    detail: str = ""


@dataclass
class Totals:
    """What one side holds for the day, in one currency."""

    currency: str
    payments: int = 0
    payments_amount: int = 0
    refunds: int = 0
    refunds_amount: int = 0

    @property
    def net(self) -> int:
        return self.payments_amount - self.refunds_amount

    def add(self, kind: str, amount: int) -> None:
        if kind == "payment":
            self.payments += 1
            self.payments_amount += amount
        else:
            self.refunds += 1
            self.refunds_amount += amount


@dataclass
class Report:
    provider: str
    day: date
    timezone: str
    start: datetime  # the day in UTC: start <= t < end
    end: datetime
    matched: int = 0
    differences: list[Difference] = field(default_factory=list)
    ours: dict[str, Totals] = field(default_factory=dict)
    theirs: dict[str, Totals] = field(default_factory=dict)

    @property
    def reconciled(self) -> bool:
        return not self.differences


def line_key(line: BillLine) -> Key:
    return (line.kind, line.payment_id, line.refund_request_no if line.kind == "refund" else None)


def _tally(into: dict[str, Totals], kind: str, amount: int, currency: str) -> None:
    into.setdefault(currency, Totals(currency)).add(kind, amount)


def _pair(book: Booked, line: BillLine) -> Difference | None:
    def diff(kind: DifferenceKind, detail: str = "") -> Difference:
        return Difference(
            kind,
            book.kind,
            book.payment_id,
            book.request_no,
            book.amount,
            line.amount,
            line.currency,
            book.status,
            line.provider_trade_no,
            detail,
        )

    if book.status != SUCCEEDED:
        return diff(DifferenceKind.STATUS, f"{book.status} in our books, done at the provider")
    if not book.in_window:
        return diff(DifferenceKind.OTHER_DAY, f"in our books at {book.at.isoformat()}")
    if book.currency != line.currency:
        return diff(DifferenceKind.CURRENCY, f"{book.currency} in our books")
    if book.amount != line.amount:
        return diff(DifferenceKind.AMOUNT)
    return None


def compare(report: Report, books: Sequence[Booked], bill: Sequence[BillLine]) -> Report:
    """Fill ``report`` with the pairing of ``books`` and ``bill``.

    ``books`` holds what falls on the day in our books and, outside it (``in_window``
    false), what the bill names that we hold on another day. Our movements not succeeded
    (a refund still pending) are expected at the provider later: not a difference unless
    the bill lists them. Totals count succeeded movements of the day on our side and every
    line on the bill."""
    ours = {b.key: b for b in books}
    seen: set[Key] = set()
    for line in bill:
        _tally(report.theirs, line.kind, line.amount, line.currency)
        key = line_key(line)
        book = ours.get(key)
        if book is None or key in seen:
            detail = "listed twice on the bill" if key in seen else ""
            report.differences.append(
                Difference(
                    DifferenceKind.MISSING_IN_BOOKS,
                    line.kind,
                    line.payment_id,
                    line.refund_request_no,
                    None,
                    line.amount,
                    line.currency,
                    provider_trade_no=line.provider_trade_no,
                    detail=detail,
                )
            )
            continue
        seen.add(key)
        found = _pair(book, line)
        if found is None:
            report.matched += 1
        else:
            report.differences.append(found)
    for book in books:
        if book.in_window and book.status == SUCCEEDED:
            _tally(report.ours, book.kind, book.amount, book.currency)
            if book.key not in seen:
                report.differences.append(
                    Difference(
                        DifferenceKind.MISSING_AT_PROVIDER,
                        book.kind,
                        book.payment_id,
                        book.request_no,
                        book.amount,
                        None,
                        book.currency,
                        book.status,
                        detail="" if book.in_ledger else "recorded, but not in the ledger",
                    )
                )
    report.differences.sort(
        key=lambda d: (d.payment_id, d.movement != "payment", d.request_no or "")
    )
    return report
