"""What a flash sale must leave behind, checked from the database and the buyers' answers.

For one level stocked with ``units``: no unit promised twice (taken ≤ units); no unit left
unsold while a buyer was told "sold out" (a refusal implies taken == units); one order per
successful key and none without one (orders == successful keys, the same ids the buyers
were given); every answer for one key the same order, replays byte-identical; each order's
reservation counted once in the level; the ledger reconciles; and every buyer got a
definitive answer with no server error.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.bench.orders_buyers import Buyer
from o2o.inventory.models import Reservation, ReservationStatus, StockLevel
from o2o.inventory.queries import ledger_discrepancies
from o2o.orders.models import Order, OrderLine


@dataclass(slots=True)
class Verdict:
    """One sale's counts and the invariants it broke (empty: none)."""

    units: int
    buyers: int
    sold: int  # orders in the database for this level
    refused: int  # buyers told "sold out"
    requests: int
    violations: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"units": self.units, "buyers": self.buyers, "sold": self.sold,
                "refused": self.refused, "requests": self.requests,
                "violations": self.violations}  # fmt: skip


def _answers_agree(buyer: Buyer) -> str | None:
    ids = buyer.order_ids
    if len(ids) > 1:
        return f"key {buyer.key}: {len(ids)} different orders {sorted(ids)}"
    bodies = {a.body for a in buyer.answers if a.status == 201}
    if len(bodies) > 1:
        return f"key {buyer.key}: replay not byte-identical to the first answer"
    if buyer.succeeded and buyer.refused:
        return f"key {buyer.key}: both an order and 'sold out'"
    return None


async def check_sale(
    session: AsyncSession, *, store_id: int, variant_id: int, units: int, buyers: list[Buyer]
) -> Verdict:
    """Grade one sale; ``session`` sees everything committed (the server has answered all)."""
    level = (
        await session.execute(
            select(StockLevel.on_hand, StockLevel.reserved).where(
                StockLevel.store_id == store_id, StockLevel.variant_id == variant_id
            )
        )
    ).one()
    order_ids = set(
        await session.scalars(
            select(Order.id)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.store_id == store_id, OrderLine.variant_id == variant_id)
        )
    )
    units_ordered = int(
        await session.scalar(
            select(func.coalesce(func.sum(OrderLine.qty), 0)).where(
                OrderLine.variant_id == variant_id
            )
        )
        or 0
    )
    held = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Reservation.qty), 0)).where(
                Reservation.store_id == store_id,
                Reservation.variant_id == variant_id,
                Reservation.status == ReservationStatus.HELD,
            )
        )
    ).one()
    winners = [b for b in buyers if b.succeeded]
    refused = [b for b in buyers if b.refused]
    given = {i for b in winners for i in b.order_ids}
    sold = units - level.on_hand + level.reserved  # nothing is paid: sold is 0, all reserved
    bad: list[str] = []
    if level.on_hand != units:
        bad.append(f"on hand changed from {units} to {level.on_hand} with no sale paid")
    if sold > units:
        bad.append(f"oversold: {sold} units taken of {units}")
    if refused and sold < units:
        bad.append(f"{len(refused)} buyers refused while {units - sold} units were unsold")
    if len(order_ids) != len(winners):
        bad.append(f"{len(order_ids)} orders for {len(winners)} successful keys")
    if given != order_ids:
        bad.append(f"orders answered {len(given)} ≠ orders stored {len(order_ids)} (by id)")
    if not (units_ordered == len(order_ids) == held[0] == held[1] == level.reserved):
        bad.append(f"units ordered {units_ordered}, orders {len(order_ids)}, holds {held[0]} "
                   f"({held[1]} units), reserved {level.reserved} disagree")  # fmt: skip
    bad += [m for m in map(_answers_agree, buyers) if m]
    unresolved = [b for b in buyers if not b.final]
    if unresolved:
        seen = Counter((a.status, a.code) for b in unresolved for a in b.answers[-1:])
        bad.append(f"{len(unresolved)} buyers without a definitive answer (last: {dict(seen)})")
    errors = Counter(a.status for b in buyers for a in b.answers if a.status >= 500)
    if errors:
        bad.append(f"server errors: {dict(errors)}")
    odd = Counter(
        (a.status, a.code)
        for b in buyers
        for a in b.answers
        if (a.status < 500 and a.status not in (0, 201, 409))
        or (a.status == 409 and a.code not in _EXPECTED)
    )
    if odd:
        bad.append(f"unexpected answers: {dict(odd)}")
    if discrepancies := await ledger_discrepancies(session):
        bad.append(f"ledger does not reconcile: {discrepancies[:3]}")
    requests = sum(len(b.answers) for b in buyers)
    return Verdict(units, len(buyers), len(order_ids), len(refused), requests, bad)


_EXPECTED = frozenset({"insufficient_stock", "idempotency_in_flight"})
