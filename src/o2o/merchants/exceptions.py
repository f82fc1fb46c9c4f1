from __future__ import annotations

from o2o.core.errors import InvalidInput, NotFound


class StoreNotFound(NotFound):
    code = "store_not_found"


class MerchantNotFound(NotFound):
    code = "merchant_not_found"


class UnknownCategory(InvalidInput):
    code = "unknown_category"


class InvalidPosition(InvalidInput):
    code = "invalid_position"


class InvalidCommission(InvalidInput):
    code = "invalid_commission"
    title = "Invalid commission rate"
