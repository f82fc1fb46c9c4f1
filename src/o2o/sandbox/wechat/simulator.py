"""The simulated WeChat Pay: its keys, its books, the payer's actions and the test hooks.

``app`` (see ``api``) answers the merchant API and serves the wallet page; the methods here
are what a payer does (pay) and what tests need to provoke (lost, replayed, tampered, stale
or wrongly signed notifications; failing or forged gateway answers).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette

from o2o.sandbox.wechat import notifier
from o2o.sandbox.wechat.api import build_app
from o2o.sandbox.wechat.books import Merchant, Trade

DEFAULT_SCHEDULE = notifier.compressed(60)  # about 24 minutes instead of a day


class WechatPaySimulator:
    def __init__(
        self,
        *,
        platform_key: rsa.RSAPrivateKey,
        platform_serial: str,
        merchants: Iterable[Merchant],
        notify_transport: httpx.AsyncBaseTransport | None = None,
        schedule: Sequence[float] = DEFAULT_SCHEDULE,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        page_base: str | None = None,
        bills_ready_at_once: bool = True,
    ) -> None:
        """``page_base``: where the wallet page is served (the sandbox in the demo); with it,
        ``code_url`` is that page's address, so a phone's camera opens it. Without it,
        ``code_url`` is WeChat Pay's own ``weixin://wxpay/bizpayurl?pr=…`` form."""
        self.platform_key = platform_key
        self.platform_serial = platform_serial
        self.merchants = {m.mchid: m for m in merchants}
        self.clock = clock
        self.page_base = page_base.rstrip("/") if page_base else None
        self.bills_ready_at_once = bills_ready_at_once
        self.notifier = notifier.Notifier(
            key=platform_key,
            serial=platform_serial,
            transport=notify_transport,
            schedule=schedule,
            sleep=sleep,
            clock=clock,
        )
        self.trades: dict[tuple[str, str], Trade] = {}
        self.deliveries: dict[str, notifier.Delivery] = {}  # by out_trade_no
        self.downloads: dict[str, tuple[bytes, float]] = {}
        self._tasks: set[asyncio.Task[notifier.Delivery]] = set()
        # Test hooks: the next ``fail_next`` API calls answer ``fail_status``; with
        # ``forge_answers`` answers carry a signature that does not verify; with
        # ``drop_notifications`` payments are never notified (the merchant must query).
        self.fail_next = 0
        self.fail_status = 500
        # ``fail_after_next``: the next calls are carried out, then answered ``fail_status``
        # SYSTEM_ERROR (the merchant cannot tell whether they were). ``refuse_refunds``: while
        # set, refunds are refused with this (status, code, message), e.g. (403, "NOT_ENOUGH",
        # "基本账户余额不足").
        self.fail_after_next = 0
        self.refuse_refunds: tuple[int, str, str] | None = None
        self.forge_answers = False
        self.drop_notifications = False
        self.app: Starlette = build_app(self)

    @property
    def notify_transport(self) -> httpx.AsyncBaseTransport | None:
        return self.notifier.transport

    @notify_transport.setter
    def notify_transport(self, transport: httpx.AsyncBaseTransport | None) -> None:
        self.notifier.transport = transport

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def code_url(self, trade: Trade) -> str:
        if self.page_base:
            return f"{self.page_base}/pay/{trade.code}"
        return f"weixin://wxpay/bizpayurl?pr={trade.code}"

    def trade(self, out_trade_no: str, mchid: str | None = None) -> Trade:
        for (owner, number), trade in self.trades.items():
            if number == out_trade_no and (mchid is None or owner == mchid):
                return trade
        raise KeyError(out_trade_no)

    def trade_by_code(self, code: str) -> Trade | None:
        return next((t for t in self.trades.values() if t.code == code), None)

    def refresh(self, trade: Trade) -> Trade:
        """WeChat Pay closes an unpaid trade once its ``time_expire`` has passed."""
        if trade.state == "NOTPAY" and trade.expired(self.now()):
            trade.state = "CLOSED"
        return trade

    # -- the payer ------------------------------------------------------------------------
    def mark_paid(self, trade: Trade) -> bool:
        """The payer confirms in WeChat: True if this paid it (once; never a closed trade)."""
        if self.refresh(trade).state != "NOTPAY":
            return False
        trade.state = "SUCCESS"
        trade.transaction_id = f"4200{self.now():%Y%m%d}{secrets.randbelow(10**14):014d}"
        trade.success_time = self.now()
        return True

    def _delivery(self, trade: Trade) -> notifier.Delivery:
        merchant = self.merchants[trade.mchid]
        body = notifier.envelope(trade, merchant, created=self.now())
        delivery = notifier.Delivery(trade, body)
        self.deliveries[trade.out_trade_no] = delivery
        return delivery

    async def pay(self, out_trade_no: str, *, notify: bool = True) -> notifier.Delivery | None:
        """Pay and (unless told not to) notify, retrying on the schedule; the delivery."""
        trade = self.trade(out_trade_no)
        if not self.mark_paid(trade) or not notify or self.drop_notifications:
            return None
        return await self.notifier.deliver(self._delivery(trade))

    def pay_in_background(self, trade: Trade) -> bool:
        """The wallet page's Pay button: the answer does not wait for the merchant."""
        if not self.mark_paid(trade):
            return False
        if not self.drop_notifications:
            task = asyncio.get_running_loop().create_task(
                self.notifier.deliver(self._delivery(trade))
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return True

    async def settle(self) -> None:
        """Wait for the notifications under way (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    # -- notifications on demand (tests) --------------------------------------------------
    def notification(
        self,
        out_trade_no: str,
        *,
        timestamp: int | None = None,
        serial: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        changes: Mapping[str, object] | None = None,
        apiv3_key: bytes | None = None,
        tamper_ciphertext: bool = False,
    ) -> notifier.Signed:
        """A notification of the trade as it stands, signed by WeChat Pay unless ``key`` (a
        forger's) or ``serial`` say otherwise; ``changes`` alter the encrypted transaction;
        ``tamper_ciphertext`` flips a byte of the ciphertext before signing."""
        trade = self.trade(out_trade_no)
        merchant = self.merchants[trade.mchid]
        transaction = {**trade.as_transaction(), **(changes or {})}
        body = notifier.envelope(
            trade, merchant, transaction=transaction, apiv3_key=apiv3_key, created=self.now()
        )
        if tamper_ciphertext:
            data = json.loads(body)
            text = data["resource"]["ciphertext"]
            middle = len(text) // 2
            data["resource"]["ciphertext"] = (
                text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1 :]
            )
            body = json.dumps(data, ensure_ascii=False).encode()
        stamp = int(self.clock()) if timestamp is None else timestamp
        return notifier.sign(
            body, key or self.platform_key, serial or self.platform_serial, timestamp=stamp
        )

    async def send(self, out_trade_no: str, signed: notifier.Signed) -> int | None:
        """Post a notification to the trade's notify_url; the merchant's status."""
        return await self.notifier.post(self.trade(out_trade_no).notify_url, signed)

    async def replay(self, out_trade_no: str) -> int | None:
        """Post the last notification sent for the trade again, byte for byte."""
        delivery = self.deliveries[out_trade_no]
        if delivery.last is None:
            raise LookupError(f"nothing was sent for {out_trade_no}")
        return await self.notifier.post(delivery.trade.notify_url, delivery.last)
