"""Platform commission, as integer arithmetic on minor units.

A sale of ``total`` at ``bps`` basis points is charged ``round_half_up(total × bps / 10000)``
per order (the order is the unit the shopper paid for and the statement lists).

Refunds give commission back in proportion to the money refunded, stated cumulatively so the
sums are exact: once ``refunded`` of an order's ``total`` has gone back, the commission given
back so far is ``round_half_up(commission × refunded / total)``, and each refund gives back
the difference from what earlier refunds gave. The cumulative figure never decreases, each
refund's share lies between 0 and its amount, and a full refund (in one go or in parts)
returns exactly the commission charged: no minor unit is lost or made up.
"""

from __future__ import annotations

BPS = 10_000  # basis points in a whole


def effective_bps(merchant_bps: int | None, default_bps: int) -> int:
    """The merchant's negotiated rate, or the platform's default when it has none."""
    return default_bps if merchant_bps is None else merchant_bps


def charge(total: int, bps: int) -> int:
    """Commission on a sale of ``total`` minor units, rounded half up."""
    if total <= 0 or bps <= 0:
        return 0
    return (total * bps + BPS // 2) // BPS


def reversed_after(*, commission: int, total: int, refunded: int) -> int:
    """Commission given back in all once ``refunded`` of ``total`` has been refunded."""
    if total <= 0 or commission <= 0:
        return 0
    refunded = max(0, min(refunded, total))
    # round_half_up(commission * refunded / total) without floats
    return (2 * commission * refunded + total) // (2 * total)


def reversal(
    *,
    commission: int,
    total: int,
    refunded_before: int,
    amount: int,
    reversed_before: int | None = None,
) -> int:
    """The commission one refund of ``amount`` gives back, after ``refunded_before`` was
    refunded and ``reversed_before`` given back (default: what the rule gave back)."""
    if reversed_before is None:
        reversed_before = reversed_after(
            commission=commission, total=total, refunded=refunded_before
        )
    after = reversed_after(commission=commission, total=total, refunded=refunded_before + amount)
    return max(0, min(after - reversed_before, amount))
