"""What a payment provider must do for the platform; one class per provider implements it.

A provider turns a ``Payment`` into something the shopper can pay (a QR payload or a
redirect), verifies the notifications it sends (signature, freshness, the shape of its
message) and answers them the way it expects, reports a payment's state when asked (for
notifications that never came), and refunds. It never changes our tables: the payments
service does that with what the provider reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.payments.models import Payment, Refund


@dataclass(frozen=True)
class Charge:
    qr_payload: str
    provider_trade_no: str | None = None
    redirect_url: str | None = None


@dataclass(frozen=True)
class Notice:
    """What a verified notification (or a query) says about one payment."""

    payment_id: int
    provider_trade_no: str
    amount: int
    currency: str
    paid: bool


@dataclass(frozen=True)
class Ack:
    """The HTTP answer the provider expects to a notification."""

    status: int
    body: str
    media_type: str = "text/plain"


@dataclass(frozen=True)
class BillLine:
    """One line of a provider's statement for a day: money that moved, as the provider saw it.

    ``payment_id`` is our payment (the provider's out-trade-no mapped back); for a refund,
    ``refund_request_no`` is our ``Refund.request_no``. ``amount`` is always positive, in
    minor units."""

    kind: Literal["payment", "refund"]
    payment_id: int
    provider_trade_no: str
    amount: int
    currency: str
    at: datetime
    refund_request_no: str | None = None


class PaymentProvider(Protocol):
    name: str

    async def create(self, session: AsyncSession, payment: Payment) -> Charge: ...

    def verify(self, headers: Mapping[str, str], body: bytes) -> Notice:
        """The notice in a genuine notification; raises ``InvalidNotification`` otherwise."""
        ...

    def acknowledge(self, *, accepted: bool) -> Ack: ...

    async def query(self, session: AsyncSession, payment: Payment) -> Notice | None: ...

    async def refund(self, session: AsyncSession, payment: Payment, refund: Refund) -> str:
        """Give ``refund.amount`` back; returns the provider's refund number."""
        ...

    async def query_refund(
        self, session: AsyncSession, payment: Payment, refund: Refund
    ) -> str | None:
        """Whether the provider made the refund under ``refund.request_no``: its refund number,
        or None when it has no such refund (asking again is safe). ``ProviderRefused`` when
        it reports the refund definitely failed; other ``ProviderError``s when it cannot tell."""
        ...

    async def close(self, session: AsyncSession, payment: Payment) -> None:
        """Close a given-up payment's trade; ``ProviderUnavailable`` if it cannot be told."""
        ...

    async def bill(self, session: AsyncSession, day: date) -> list[BillLine]:
        """What the provider's statement for ``day`` (UTC) lists: payments and refunds."""
        ...
