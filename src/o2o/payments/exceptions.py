from __future__ import annotations

from o2o.core.errors import Conflict, DomainError, InvalidInput, NotFound


class UnknownProvider(InvalidInput):
    code = "unknown_provider"


class PaymentNotFound(NotFound):
    code = "payment_not_found"


class RefundExceedsPaid(Conflict):
    code = "refund_exceeds_paid"
    title = "A refund cannot exceed what was paid minus earlier refunds"


class PaymentNotSettled(Conflict):
    code = "payment_not_settled"
    title = "The payment has not succeeded"


class InvalidNotification(DomainError):
    """A notification that failed verification; ``reason`` is logged, nothing changes."""

    code = "invalid_notification"
    status = 400
    title = "Notification rejected"


class WalletRefused(Conflict):
    code = "wallet_refused"
    title = "The wallet refused the action"
