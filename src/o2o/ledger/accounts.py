"""The ledger's accounts, named as the trade names them.

- ``provider_clearing:<provider>``: money the provider (Alipay, WeChat Pay, the demo wallet)
  holds for the platform. Debited when a shopper pays, credited when money goes back.
- ``merchant_payable:<merchant id>``: what the platform owes a merchant for its sales, net of
  commission. Credited on a sale, debited by the merchant's share of a refund.
- ``platform_commission``: the platform's income (entries carry the merchant they came from).
- ``refunds_due``: money that arrived for an order that could no longer be honoured, owed
  back to the shopper until it is refunded (in the same transaction, so it stays at zero).
- ``unallocated_receipts``: money a payment brought that no order claims (a payment that
  succeeded after its checkout had changed); someone must look at it.
"""

from __future__ import annotations

PLATFORM_COMMISSION = "platform_commission"
REFUNDS_DUE = "refunds_due"
UNALLOCATED_RECEIPTS = "unallocated_receipts"
CLEARING_PREFIX = "provider_clearing:"
PAYABLE_PREFIX = "merchant_payable:"


def provider_clearing(provider: str) -> str:
    return f"{CLEARING_PREFIX}{provider}"


def merchant_payable(merchant_id: int) -> str:
    return f"{PAYABLE_PREFIX}{merchant_id}"


def is_clearing(account: str) -> bool:
    return account.startswith(CLEARING_PREFIX)


def is_payable(account: str) -> bool:
    return account.startswith(PAYABLE_PREFIX)
