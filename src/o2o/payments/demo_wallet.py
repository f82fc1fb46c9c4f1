"""The ``demo`` provider: a QR wallet that lives beside the platform and behaves like one.

The QR encodes a wallet link (``/wallet/demo/{payment_id}?t=…``, the token an HMAC of the
payment). Opening it shows the amount; confirming marks the wallet's trade paid and queues
the wallet's *asynchronous* notification to ``POST /api/v1/payments/demo/notify``, signed
``O2O-Demo-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``. The platform trusts
the notification, never the confirm call, exactly as with a real wallet: a notification
with a bad or stale signature, or one for another amount, changes nothing.

The wallet keeps its own table (``demo_wallet_trades``): in the real world it is another
company's database, and the platform only learns its state through notifications and
queries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from o2o.core.clock import utcnow
from o2o.core.db import Base, BigId, UTCDateTime
from o2o.core.outbox import emit
from o2o.payments.exceptions import (
    InvalidNotification,
    PaymentNotFound,
    UnknownProvider,
    WalletRefused,
)
from o2o.payments.models import Payment, Refund
from o2o.payments.providers import Ack, BillLine, Charge, Notice
from o2o.payments.service import Providers

NAME = "demo"
SIGNATURE_HEADER = "o2o-demo-signature"
NOTIFY_TOPIC = "payments.demo.notify"
TOLERANCE_SECONDS = 300
MAX_BODY = 4096


class DemoWalletTrade(Base):
    __tablename__ = "demo_wallet_trades"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), unique=True
    )
    trade_no: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="waiting")  # paid, closed
    refunded: Mapped[int] = mapped_column(Integer, default=0)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DemoWalletRefund(Base):
    """A refund the wallet made; a retried request (same request number) is not made twice."""

    __tablename__ = "demo_wallet_refunds"
    __table_args__ = (UniqueConstraint("trade_id", "request_no"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    trade_id: Mapped[int] = mapped_column(ForeignKey("demo_wallet_trades.id", ondelete="CASCADE"))
    request_no: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer)
    refunded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DemoWallet:
    """Both sides of the demo wallet: the provider the platform calls, and the wallet's own
    confirm action and notification sender."""

    name = NAME

    def __init__(self, *, secret: str, base_url: str) -> None:
        self._key = hmac.new(secret.encode(), b"o2o-demo-wallet", hashlib.sha256).digest()
        self._base_url = base_url.rstrip("/")

    # -- signing -------------------------------------------------------------------------
    def _mac(self, message: bytes) -> str:
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def token_for(self, payment_id: int) -> str:
        return self._mac(f"pay:{payment_id}".encode())[:32]

    def sign(self, body: bytes, *, at: int | None = None) -> str:
        at = int(time.time()) if at is None else at
        return f"t={at},v1={self._mac(str(at).encode() + b'.' + body)}"

    def wallet_url(self, payment_id: int) -> str:
        return f"{self._base_url}/wallet/demo/{payment_id}?t={self.token_for(payment_id)}"

    # -- the provider interface -----------------------------------------------------------
    async def create(self, session: AsyncSession, payment: Payment) -> Charge:
        trade = DemoWalletTrade(
            payment_id=payment.id,
            trade_no=f"DW{secrets.token_hex(10).upper()}",
            amount=payment.amount,
            currency=payment.currency,
        )
        session.add(trade)
        await session.flush()
        return Charge(qr_payload=self.wallet_url(payment.id), provider_trade_no=trade.trade_no)

    def verify(self, headers: Mapping[str, str], body: bytes) -> Notice:
        if len(body) > MAX_BODY:
            raise InvalidNotification("The notification is too large.", reason="too_large")
        header = headers.get(SIGNATURE_HEADER, "")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        at, mac = parts.get("t", ""), parts.get("v1", "")
        if not at.isdigit() or not mac:
            raise InvalidNotification("The signature header is missing.", reason="unsigned")
        if abs(time.time() - int(at)) > TOLERANCE_SECONDS:
            raise InvalidNotification("The signature is too old.", reason="stale")
        expected = self._mac(at.encode() + b"." + body)
        if not hmac.compare_digest(expected, mac):
            raise InvalidNotification("The signature does not match.", reason="bad_signature")
        try:
            data = json.loads(body)
            return Notice(
                payment_id=int(data["out_trade_no"]),
                provider_trade_no=str(data["trade_no"]),
                amount=int(data["amount"]),
                currency=str(data["currency"]),
                paid=data["trade_status"] == "PAID",
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidNotification("The notification is malformed.", reason="malformed") from exc

    def acknowledge(self, *, accepted: bool) -> Ack:
        return Ack(200, "success") if accepted else Ack(400, "fail")

    async def query(self, session: AsyncSession, payment: Payment) -> Notice | None:
        trade = await self._trade(session, payment.id)
        if trade is None:
            return None
        return Notice(
            payment.id, trade.trade_no, trade.amount, trade.currency, trade.status == "paid"
        )

    async def refund(self, session: AsyncSession, payment: Payment, refund: Refund) -> str:
        trade = await self._trade(session, payment.id)
        if trade is not None:
            made = await session.scalar(
                select(DemoWalletRefund.id).where(
                    DemoWalletRefund.trade_id == trade.id,
                    DemoWalletRefund.request_no == refund.request_no,
                )
            )
            if made is not None:  # the same request again: already done
                return f"{trade.trade_no}-R{refund.request_no}"
        done = (
            await session.execute(
                update(DemoWalletTrade)
                .where(
                    DemoWalletTrade.payment_id == payment.id,
                    DemoWalletTrade.status == "paid",
                    DemoWalletTrade.refunded + refund.amount <= DemoWalletTrade.amount,
                )
                .values(refunded=DemoWalletTrade.refunded + refund.amount)
                .returning(DemoWalletTrade.trade_no)
            )
        ).one_or_none()
        if done is None or trade is None:
            raise WalletRefused("The wallet cannot refund this amount.")
        session.add(
            DemoWalletRefund(trade_id=trade.id, request_no=refund.request_no, amount=refund.amount)
        )
        await session.flush()
        return f"{done.trade_no}-R{refund.request_no}"

    async def query_refund(
        self, session: AsyncSession, payment: Payment, refund: Refund
    ) -> str | None:
        trade = await self._trade(session, payment.id)
        if trade is None:
            return None
        made = await session.scalar(
            select(DemoWalletRefund.id).where(
                DemoWalletRefund.trade_id == trade.id,
                DemoWalletRefund.request_no == refund.request_no,
            )
        )
        return None if made is None else f"{trade.trade_no}-R{refund.request_no}"

    async def close(self, session: AsyncSession, payment: Payment) -> None:
        await session.execute(
            update(DemoWalletTrade)
            .where(DemoWalletTrade.payment_id == payment.id, DemoWalletTrade.status == "waiting")
            .values(status="closed")
        )

    async def bill(self, session: AsyncSession, day: date) -> list[BillLine]:
        start = datetime.combine(day, dtime.min, tzinfo=UTC)
        end = start + timedelta(days=1)
        lines = [
            BillLine("payment", t.payment_id, t.trade_no, t.amount, t.currency, t.paid_at)
            for t in await session.scalars(
                select(DemoWalletTrade)
                .where(DemoWalletTrade.paid_at >= start, DemoWalletTrade.paid_at < end)
                .order_by(DemoWalletTrade.id)
            )
            if t.paid_at is not None
        ]
        rows = await session.execute(
            select(DemoWalletRefund, DemoWalletTrade)
            .join(DemoWalletTrade, DemoWalletTrade.id == DemoWalletRefund.trade_id)
            .where(DemoWalletRefund.refunded_at >= start, DemoWalletRefund.refunded_at < end)
            .order_by(DemoWalletRefund.id)
        )
        for r, t in rows.all():
            lines.append(
                BillLine(
                    "refund",
                    t.payment_id,
                    t.trade_no,
                    r.amount,
                    t.currency,
                    r.refunded_at,
                    refund_request_no=r.request_no,
                )
            )
        return lines

    # -- the wallet's side ----------------------------------------------------------------
    async def _trade(self, session: AsyncSession, payment_id: int) -> DemoWalletTrade | None:
        return await session.scalar(
            select(DemoWalletTrade).where(DemoWalletTrade.payment_id == payment_id)
        )

    async def trade_for(
        self, session: AsyncSession, *, payment_id: int, token: str
    ) -> DemoWalletTrade:
        """The trade a wallet link opens; the token proves the link came from its QR."""
        trade = await self._trade(session, payment_id)
        if trade is None or not hmac.compare_digest(token, self.token_for(payment_id)):
            raise PaymentNotFound("This payment link is not valid.", field="token")
        return trade

    async def confirm(
        self, session: AsyncSession, *, payment_id: int, token: str
    ) -> DemoWalletTrade:
        """The shopper approves in the wallet: the trade is paid once, and the notification to
        the platform is queued (it is delivered, with retries, by the relay)."""
        trade = await self.trade_for(session, payment_id=payment_id, token=token)
        won = (
            await session.execute(
                update(DemoWalletTrade)
                .where(DemoWalletTrade.id == trade.id, DemoWalletTrade.status == "waiting")
                .values(status="paid", paid_at=utcnow())
                .returning(DemoWalletTrade.id)
            )
        ).one_or_none()
        await session.refresh(trade)
        if won is None and trade.status != "paid":
            raise WalletRefused("This payment was closed; go back to the order and pay again.")
        if won is not None:
            emit(session, NOTIFY_TOPIC, {"payment_id": payment_id})
        return trade

    async def notification_for(
        self, session: AsyncSession, *, payment_id: int
    ) -> tuple[bytes, dict[str, str]] | None:
        """The signed notification the wallet sends for a paid trade (None if not paid)."""
        trade = await self._trade(session, payment_id)
        if trade is None or trade.status != "paid":
            return None
        body: dict[str, Any] = {
            "out_trade_no": str(payment_id),
            "trade_no": trade.trade_no,
            "amount": trade.amount,
            "currency": trade.currency,
            "trade_status": "PAID",
            "paid_at": trade.paid_at.isoformat() if trade.paid_at else None,
            "notify_id": secrets.token_hex(8),
        }
        raw = json.dumps(body, separators=(",", ":")).encode()
        return raw, {"Content-Type": "application/json", "O2O-Demo-Signature": self.sign(raw)}


def wallet_in(providers: Providers) -> DemoWallet:
    """The demo wallet, if this platform enables it."""
    provider = providers.get(NAME)
    if not isinstance(provider, DemoWallet):
        raise UnknownProvider("The demo wallet is not enabled on this platform.")
    return provider
