"""Prices and totals in minor units; the discount hook that coupons will fill."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from o2o.catalog.models import Product, Variant


@dataclass(frozen=True)
class PricedLine:
    variant: Variant
    product: Product
    qty: int

    @property
    def unit_price(self) -> int:
        return self.variant.price

    @property
    def line_total(self) -> int:
        return self.variant.price * self.qty


@dataclass(frozen=True)
class Draft:
    """An order before it exists: what a discount policy sees."""

    shopper_id: int
    merchant_id: int
    store_id: int
    lines: tuple[PricedLine, ...]

    @property
    def subtotal(self) -> int:
        return sum(line.line_total for line in self.lines)


class Discounts(Protocol):
    async def discount_for(self, draft: Draft) -> int:
        """Minor units off the subtotal (0 ≤ discount ≤ subtotal)."""
        ...


class NoDiscounts:
    async def discount_for(self, draft: Draft) -> int:
        return 0


@dataclass(frozen=True)
class Totals:
    subtotal: int
    discount: int
    fee: int

    @property
    def total(self) -> int:
        return self.subtotal - self.discount + self.fee


async def totals(draft: Draft, *, fee: int, discounts: Discounts) -> Totals:
    off = await discounts.discount_for(draft)
    off = max(0, min(off, draft.subtotal))
    return Totals(draft.subtotal, off, fee)
