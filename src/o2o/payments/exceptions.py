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


# -- talking to a provider ----------------------------------------------------------------------
class ProviderError(DomainError):
    """A provider's API did not do what was asked. Nothing is called inside a transaction
    holding locks: the caller records the outcome (a failed payment attempt, a refund still
    pending) and the request can be tried again."""

    code = "provider_error"
    status = 502
    title = "The payment provider refused the request"


class ProviderUnavailable(ProviderError):
    """The provider could not be reached or answered with no usable answer (network, 5xx)."""

    code = "provider_unavailable"
    status = 503
    title = "The payment provider cannot be reached"


class ProviderRefused(ProviderError):
    """The provider answered, signed, with a failure code (``provider_code``, ``sub_code``)."""

    code = "provider_refused"


class ProviderAnswerInvalid(ProviderError):
    """An answer that is not the provider's: a bad or missing signature, or not its format."""

    code = "provider_answer_invalid"
    title = "The payment provider's answer could not be verified"


class CurrencyNotSupported(InvalidInput):
    code = "currency_not_supported"
    title = "The payment provider does not take this currency"


class AmountOutOfRange(InvalidInput):
    code = "amount_out_of_range"
    title = "The amount is outside what the payment provider takes"


class ProviderMisconfigured(RuntimeError):
    """A provider is enabled but its settings are missing or wrong: raised at start-up (by
    ``create_app``), with what to set, never at the first payment."""


class PaymentInProgress(Conflict):
    """Another request is asking the provider for this checkout's payment right now."""

    code = "payment_in_progress"
    title = "The payment is being created"


class RefundNotFound(NotFound):
    code = "refund_not_found"


class RefundNotRetryable(Conflict):
    code = "refund_not_retryable"
    title = "Only a failed refund can be retried"
