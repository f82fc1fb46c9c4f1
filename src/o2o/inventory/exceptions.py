from __future__ import annotations

from o2o.core.errors import Conflict, InvalidInput, NotFound


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    title = "Not enough stock"


class BelowReserved(Conflict):
    code = "below_reserved"
    title = "Stock would fall below what is reserved"


class UnknownVariant(NotFound):
    code = "variant_not_found"


class InvalidQuantity(InvalidInput):
    code = "invalid_quantity"
