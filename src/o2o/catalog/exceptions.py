from __future__ import annotations

from o2o.core.errors import Conflict, InvalidInput, NotFound


class ProductNotFound(NotFound):
    code = "product_not_found"


class VariantNotFound(NotFound):
    code = "variant_not_found"


class UnknownCode(NotFound):
    code = "unknown_code"


class AmbiguousCode(Conflict):
    code = "ambiguous_code"


class DuplicateSku(Conflict):
    code = "duplicate_sku"


class InvalidPhoto(InvalidInput):
    code = "invalid_photo"
