"""How the simulated WeChat Pay tells a merchant a trade was paid, and insists.

The notification is the JSON envelope WeChat Pay posts (``id``, ``create_time``,
``event_type`` TRANSACTION.SUCCESS, ``resource_type`` encrypt-resource, ``summary`` and the
AES-256-GCM ``resource``), with ``Wechatpay-Timestamp/Nonce/Signature/Serial`` and
``Wechatpay-Signature-Type`` headers. Each attempt is signed afresh (a new timestamp and
nonce over the same body); attempts go on, on WeChat Pay's schedule (compressed here), until
the merchant answers 200 or 204.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from o2o.sandbox.wechat import signing
from o2o.sandbox.wechat.books import Merchant, Trade, cst

# WeChat Pay's published retry intervals, in seconds (about a day in all).
REAL_SCHEDULE: tuple[float, ...] = (
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
)  # fmt: skip


def compressed(factor: float) -> tuple[float, ...]:
    """The real schedule, ``factor`` times faster; the first attempt is immediate."""
    return (0.0, *(delay / factor for delay in REAL_SCHEDULE))


@dataclass(frozen=True)
class Signed:
    """A notification ready to post: exactly these bytes with exactly these headers."""

    body: bytes
    headers: dict[str, str]


@dataclass
class Attempt:
    url: str
    status: int | None  # None: the request did not get an answer
    at: float


@dataclass
class Delivery:
    trade: Trade
    envelope: bytes
    attempts: list[Attempt] = field(default_factory=list)
    last: Signed | None = None

    @property
    def delivered(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].status in (200, 204)


def envelope(
    trade: Trade,
    merchant: Merchant,
    *,
    transaction: dict[str, object] | None = None,
    apiv3_key: bytes | None = None,
    event_type: str = "TRANSACTION.SUCCESS",
    created: datetime | None = None,
) -> bytes:
    plain = json.dumps(transaction or trade.as_transaction(), ensure_ascii=False).encode()
    nonce, ciphertext = signing.seal(apiv3_key or merchant.apiv3_key, plain, "transaction")
    body = {
        "id": f"EV-{secrets.token_hex(10)}",
        "create_time": cst(created or datetime.now(UTC)),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": "支付成功",
        "resource": {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": ciphertext,
            "associated_data": "transaction",
            "nonce": nonce,
        },
    }
    return json.dumps(body, ensure_ascii=False).encode()


def sign(
    body: bytes, key: rsa.RSAPrivateKey, serial: str, *, timestamp: int | None = None
) -> Signed:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = signing.nonce_str()
    return Signed(
        body,
        {
            "Content-Type": "application/json",
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": signing.platform_signature(key, stamp, nonce, body),
            "Wechatpay-Serial": serial,
            "Wechatpay-Signature-Type": signing.SCHEME,
        },
    )


class Notifier:
    def __init__(
        self,
        *,
        key: rsa.RSAPrivateKey,
        serial: str,
        transport: httpx.AsyncBaseTransport | None,
        schedule: Sequence[float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.serial = serial
        self.transport = transport
        self.schedule = tuple(schedule)
        self.sleep = sleep
        self.clock = clock

    async def post(self, url: str, signed: Signed) -> int | None:
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=10) as client:
                response = await client.post(url, content=signed.body, headers=signed.headers)
        except httpx.HTTPError:
            return None
        return response.status_code

    async def deliver(self, delivery: Delivery) -> Delivery:
        """Post until the merchant answers 200/204 or the schedule runs out."""
        for delay in self.schedule:
            if delay:
                await self.sleep(delay)
            signed = sign(delivery.envelope, self.key, self.serial, timestamp=int(self.clock()))
            delivery.last = signed
            status = await self.post(delivery.trade.notify_url, signed)
            delivery.attempts.append(Attempt(delivery.trade.notify_url, status, self.clock()))
            if status in (200, 204):
                break
        return delivery
