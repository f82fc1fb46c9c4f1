from __future__ import annotations

from o2o.core.errors import Conflict, DomainError, InvalidInput, NotFound


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


class UnknownSaleItems(InvalidInput):
    """Some lines of a POS sale name no variant of the merchant; nothing was applied."""

    code = "unknown_sale_items"
    title = "Some sale lines name no product of this merchant"


class ImportRejected(InvalidInput):
    """A stock file had bad rows and the import was all-or-nothing; nothing was applied."""

    code = "import_rejected"
    title = "The stock file has errors; nothing was changed"


class ImportUnreadable(InvalidInput):
    code = "import_unreadable"
    title = "The stock file cannot be read"


class ImportTooLarge(DomainError):
    code = "import_too_large"
    status = 413
    title = "The stock file is too large"


class SaleIdConflict(Conflict):
    """A till resent a sale id with other lines: the first version stands, the change is not
    applied silently."""

    code = "sale_id_conflict"
    title = "This sale id was recorded with other lines"
