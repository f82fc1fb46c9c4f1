"""How much money a return gives back: the rule, as pure arithmetic on integer minor units.

An order's ``total = subtotal - discount + fee``. Returned goods are refunded at the price
paid for them, net of their share of the order's discount; the fee (delivery, shipping) pays
for a service already performed, so it comes back only with the last unit, when the whole
order has been returned.

The rule is stated cumulatively, which is what makes the rounding exact: after returns worth
``returned`` (at the unit prices paid) the shopper is owed

    owed(returned) = floor(returned * (subtotal - discount) / subtotal)     while units remain
    owed(subtotal) = total                                                   once all are back

and each return refunds ``owed(after) - owed(before)``. ``owed`` never decreases and never
exceeds ``total``, so the refunds of any sequence of partial returns are each ≥ 0, add up to
at most the total, and add up to exactly the total once everything is back. (Rounding each
return's share on its own instead could give one minor unit too many in the sum.)
"""

from __future__ import annotations


def owed(*, subtotal: int, discount: int, fee: int, returned: int, all_back: bool) -> int:
    """What all returns so far are owed together, ``returned`` being their value at the unit
    prices paid (clamped to ``0..subtotal``) and ``all_back`` whether no unit is left out."""
    if all_back:
        return subtotal - discount + fee
    if subtotal <= 0:
        return 0
    returned = max(0, min(returned, subtotal))
    return returned * (subtotal - discount) // subtotal


def refund_for(
    *,
    subtotal: int,
    discount: int,
    fee: int,
    returned_before: int,
    returned_after: int,
    all_back_after: bool,
) -> int:
    """The refund of one return that takes the returned value from ``returned_before`` to
    ``returned_after`` (and everything back if ``all_back_after``)."""
    before = owed(
        subtotal=subtotal, discount=discount, fee=fee, returned=returned_before, all_back=False
    )
    after = owed(
        subtotal=subtotal,
        discount=discount,
        fee=fee,
        returned=returned_after,
        all_back=all_back_after,
    )
    return max(0, after - before)
