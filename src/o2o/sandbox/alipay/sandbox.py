"""``AlipaySandbox``: Alipay's open platform for face-to-face payment, in one process.

It answers ``POST /gateway.do`` (precreate, query, refund, close, bill download URL) with
answers signed by its own key, shows the buyer's wallet at ``GET /qr/{code}`` (the
``qr_code`` it hands out), notifies ``notify_url`` when a trade is paid or refunded, and
serves bills at ``/bills/{token}``. Tests drive it directly too: ``pay``, ``deliver``,
``notification`` (signed, with any field changed before signing) and ``forge`` (changed
after).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from o2o.sandbox.alipay import bills, keys, pages
from o2o.sandbox.alipay.book import CLOSED, Book, Refund, Refusal, Trade, cst, yuan
from o2o.sandbox.alipay.gateway import checked_biz, parse_params
from o2o.sandbox.alipay.notifier import COMPRESSED_SCHEDULE, FORM, Delivery, Notifier

# Alipay's sandbox application ids start with 9021; this one is the demo merchant's.
SANDBOX_APP_ID = "9021000000000001"
PRECREATE, QUERY = "alipay.trade.precreate", "alipay.trade.query"
REFUND, CLOSE = "alipay.trade.refund", "alipay.trade.close"
REFUND_QUERY = "alipay.trade.fastpay.refund.query"
BILL = "alipay.data.dataservice.bill.downloadurl.query"
METHODS = frozenset({PRECREATE, QUERY, REFUND, REFUND_QUERY, CLOSE, BILL})
# What Alipay answers when its own system failed: the call may or may not have been done.
SYSTEM_ERROR = {
    "code": "20000",
    "msg": "Service Currently Unavailable",
    "sub_code": "ACQ.SYSTEM_ERROR",
    "sub_msg": "系统错误",
}
BUYER_LOGON_ID = "sandbox***@example.com"


def _digits(n: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(n))


class AlipaySandbox:
    def __init__(
        self,
        *,
        base_url: str,
        private_key: rsa.RSAPrivateKey | None = None,
        notify_transport: httpx.AsyncBaseTransport | None = None,
        schedule: Sequence[float] = COMPRESSED_SCHEDULE,
        auto_notify: bool = True,
        clock: Callable[[], datetime] | None = None,
        bill_url_ttl: timedelta = timedelta(seconds=30),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = private_key or keys.new_key()
        self.apps: dict[str, rsa.RSAPublicKey] = {}
        self.book = Book()
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.notifier = Notifier(
            clock=self.clock, transport=notify_transport, schedule=schedule, auto=auto_notify
        )
        self.seller_id, self.buyer_id = f"2088{_digits(12)}", f"2088{_digits(12)}"
        self.bill_url_ttl = bill_url_ttl
        # A test hook: while set, the gateway answers 503 as during an outage.
        self.outage = False
        # A test hook: the next ``lose_answers`` calls are carried out, but their answer is
        # lost on the way back (the caller sees a gateway timeout, 504).
        self.lose_answers = 0
        # A test hook: the next ``system_errors`` calls are carried out, but answered (signed)
        # with ACQ.SYSTEM_ERROR, as Alipay does when its system fails midway.
        self.system_errors = 0
        # A test hook: while set, refunds are refused with this sub_code (a definite refusal,
        # such as ACQ.SELLER_BALANCE_NOT_ENOUGH).
        self.refuse_refunds: str | None = None
        self._bills: dict[str, tuple[str, date, datetime]] = {}
        self.app = Starlette(
            routes=[
                Route("/gateway.do", self._gateway, methods=["POST"]),
                Route("/qr/{code}", self._wallet, methods=["GET"]),
                Route("/qr/{code}/pay", self._wallet_pay, methods=["POST"]),
                Route("/bills/{token}", self._bill, methods=["GET"]),
            ]
        )

    @classmethod
    def from_dir(
        cls, directory: Path, *, base_url: str, app_id: str = SANDBOX_APP_ID, **options: Any
    ) -> AlipaySandbox:
        """The sandbox whose keys are in ``directory`` (see ``keys.ensure_keys``), knowing the
        merchant application ``app_id`` by the public key uploaded there."""
        files = keys.KeyFiles.in_dir(directory)
        sandbox = cls(
            base_url=base_url, private_key=keys.read_private(files.alipay_private), **options
        )
        sandbox.register_app(app_id, keys.read_public(files.app_public))
        return sandbox

    # -- the console -----------------------------------------------------------------------
    def register_app(self, app_id: str, public_key: rsa.RSAPublicKey) -> None:
        """An application, by the public key its merchant uploaded."""
        self.apps[app_id] = public_key

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        """Alipay's public key, which merchants configure to check Alipay's signatures."""
        return self._key.public_key()

    @property
    def gateway_url(self) -> str:
        return f"{self.base_url}/gateway.do"

    def transport(self) -> httpx.AsyncBaseTransport:
        """Reaches this sandbox in process at its ``base_url`` (whatever path it is under)."""
        return httpx.ASGITransport(app=self.app, root_path=urlsplit(self.base_url).path)

    @property
    def auto_notify(self) -> bool:
        return self.notifier.auto

    @auto_notify.setter
    def auto_notify(self, value: bool) -> None:
        self.notifier.auto = value

    @property
    def deliveries(self) -> list[Delivery]:
        return self.notifier.deliveries

    # -- the gateway -----------------------------------------------------------------------
    async def _gateway(self, request: Request) -> Response:
        if self.outage:
            return Response("Service Unavailable", status_code=503)
        params: dict[str, str] = {}
        try:
            params = parse_params(request.url.query, await request.body())
            biz = checked_biz(params, self.apps, METHODS)
            node = {"code": "10000", "msg": "Success", **self._call(params, biz)}
            if self.system_errors > 0:
                self.system_errors -= 1
                node = dict(SYSTEM_ERROR)
        except Refusal as refusal:
            node = refusal.node
        method = params.get("method", "")
        name = method.replace(".", "_") + "_response" if method in METHODS else "error_response"
        text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
        signature = keys.rsa2_sign(self._key, text)
        answer = f'{{"{name}":{text},"sign":"{signature}"}}'
        if self.lose_answers > 0:
            self.lose_answers -= 1
            return Response("Gateway Timeout", status_code=504)
        return Response(answer, media_type="application/json;charset=utf-8")

    def _call(self, params: dict[str, str], biz: dict[str, Any]) -> dict[str, Any]:
        method, app_id, now = params["method"], params["app_id"], self.clock()
        if method == PRECREATE:
            trade = self.book.precreate(
                app_id, biz, notify_url=params.get("notify_url", ""), now=now
            )
            return {
                "out_trade_no": trade.out_trade_no,
                "qr_code": f"{self.base_url}/qr/{trade.code}",
            }
        if method == QUERY:
            return self._query_node(self.book.find(app_id, biz, now))
        if method == REFUND:
            if self.refuse_refunds:
                raise Refusal(self.refuse_refunds, "退款被拒绝")
            trade, refund, made = self.book.refund(app_id, biz, now)
            if made:
                self._notify(trade, refund)
            return {
                "trade_no": trade.trade_no,
                "out_trade_no": trade.out_trade_no,
                "buyer_logon_id": BUYER_LOGON_ID,
                "fund_change": "Y" if made else "N",
                "refund_fee": yuan(trade.refunded),
                "gmt_refund_pay": cst(refund.at),
                "buyer_user_id": self.buyer_id,
            }
        if method == REFUND_QUERY:
            return self._refund_query_node(app_id, biz, now)
        if method == CLOSE:
            trade = self.book.close(app_id, biz, now)
            return {"trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no}
        return {"bill_download_url": self._bill_url(app_id, biz, now)}

    def _query_node(self, trade: Trade) -> dict[str, Any]:
        paid = trade.paid_at is not None
        node: dict[str, Any] = {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": BUYER_LOGON_ID,
            "trade_status": trade.status,
            "total_amount": yuan(trade.amount),
            "receipt_amount": yuan(trade.amount if paid else 0),
            "buyer_pay_amount": yuan(trade.amount if paid else 0),
            "point_amount": "0.00",
            "invoice_amount": yuan(trade.amount if paid else 0),
            "buyer_user_id": self.buyer_id,
        }
        if trade.paid_at is not None:
            node["send_pay_date"] = cst(trade.paid_at)
        return node

    def _refund_query_node(self, app_id: str, biz: dict[str, Any], now: datetime) -> dict[str, Any]:
        """``alipay.trade.fastpay.refund.query``: the refund under ``out_request_no`` if it was
        made (``refund_status`` REFUND_SUCCESS); without one, only the trade's fields, which
        is how Alipay says the refund was not made."""
        trade = self.book.find(app_id, biz, now)
        request_no = biz.get("out_request_no")
        if not isinstance(request_no, str) or not request_no:
            raise Refusal("ACQ.INVALID_PARAMETER", "参数无效 (out_request_no)")
        node: dict[str, Any] = {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "total_amount": yuan(trade.amount),
        }
        made = trade.refunds.get(request_no)
        if made is not None:
            node |= {
                "out_request_no": request_no,
                "refund_amount": yuan(made.amount),
                "refund_status": "REFUND_SUCCESS",
                "gmt_refund_pay": cst(made.at),
            }
        return node

    def _bill_url(self, app_id: str, biz: dict[str, Any], now: datetime) -> str:
        if biz.get("bill_type") != "trade":
            raise Refusal(
                "isv.invalid-parameter", "账单类型不支持", code="40002", msg="Invalid Arguments"
            )
        try:
            day = date.fromisoformat(str(biz.get("bill_date", "")))
        except ValueError as exc:
            raise Refusal(
                "isv.invalid-parameter", "账单时间格式错误", code="40002", msg="Invalid Arguments"
            ) from exc
        token = secrets.token_urlsafe(16)
        self._bills[token] = (app_id, day, now + self.bill_url_ttl)
        return f"{self.base_url}/bills/{token}"

    async def _bill(self, request: Request) -> Response:
        entry = self._bills.get(request.path_params["token"])
        if entry is None or self.clock() > entry[2]:
            return Response("账单链接已过期 · This bill link has expired.", status_code=404)
        app_id, day, _ = entry
        trades = [t for t in self.book.trades.values() if t.app_id == app_id]
        data = bills.bill_zip(account=self.seller_id, day=day, trades=trades, now=self.clock())
        name = f"{self.seller_id}_{day:%Y%m%d}.csv.zip"
        return Response(
            data,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    # -- notifications ---------------------------------------------------------------------
    def notification_fields(self, trade: Trade, refund: Refund | None = None) -> dict[str, str]:
        """What Alipay's ``trade_status_sync`` says about ``trade`` now, unsigned."""
        now = self.clock()
        fields = {
            "notify_time": cst(now),
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(17),
            "charset": "utf-8",
            "version": "1.0",
            "app_id": trade.app_id,
            "auth_app_id": trade.app_id,
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_id": self.buyer_id,
            "buyer_logon_id": BUYER_LOGON_ID,
            "seller_id": self.seller_id,
            "trade_status": trade.status,
            "total_amount": yuan(trade.amount),
            "receipt_amount": yuan(trade.amount),
            "invoice_amount": yuan(trade.amount),
            "buyer_pay_amount": yuan(trade.amount),
            "point_amount": "0.00",
            "subject": trade.subject,
            "gmt_create": cst(trade.scanned_at or trade.created_at),
            "fund_bill_list": json.dumps(
                [{"amount": yuan(trade.amount), "fundChannel": "ALIPAYACCOUNT"}],
                separators=(",", ":"),
            ),
        }
        if trade.paid_at is not None:
            fields["gmt_payment"] = cst(trade.paid_at)
        if refund is not None:
            fields["out_biz_no"] = refund.out_request_no
            fields["refund_fee"] = yuan(trade.refunded)
            fields["gmt_refund"] = f"{cst(refund.at)}.{refund.at.microsecond // 1000:03d}"
        if trade.status == CLOSED and trade.closed_at is not None:
            fields["gmt_close"] = cst(trade.closed_at)
        return fields

    def sign_notification(
        self, fields: dict[str, str], *, key: rsa.RSAPrivateKey | None = None
    ) -> bytes:
        signed = {**fields, "sign_type": "RSA2"}
        text = keys.string_to_sign(signed, skip={"sign", "sign_type"}, drop_empty=False)
        signed["sign"] = keys.rsa2_sign(key or self._key, text)
        return urlencode(signed).encode("ascii")

    def _notify(self, trade: Trade, refund: Refund | None = None) -> None:
        if trade.notify_url:
            body = self.sign_notification(self.notification_fields(trade, refund))
            self.notifier.owe(trade.notify_url, body)

    # -- the buyer's wallet ----------------------------------------------------------------
    def _pay_action(self, trade: Trade) -> str:
        return f"{urlsplit(self.base_url).path}/qr/{trade.code}/pay"

    async def _wallet(self, request: Request) -> Response:
        trade = self.book.by_code.get(request.path_params["code"])
        if trade is None:
            return HTMLResponse(pages.not_found(), status_code=404)
        self.book.scan(trade, self.clock())
        return HTMLResponse(pages.wallet(trade, pay_action=self._pay_action(trade)))

    async def _wallet_pay(self, request: Request) -> Response:
        trade = self.book.by_code.get(request.path_params["code"])
        if trade is None:
            return HTMLResponse(pages.not_found(), status_code=404)
        try:
            if self.book.pay(trade, self.clock()):
                self._notify(trade)
        except Refusal:
            pass  # closed or expired: the wallet screen says so
        return RedirectResponse(f"{urlsplit(self.base_url).path}/qr/{trade.code}", status_code=303)

    # -- test hooks --------------------------------------------------------------------------
    def trade(self, out_trade_no: str, *, app: str | None = None) -> Trade:
        return self.book.trades[(app or next(iter(self.apps)), out_trade_no)]

    def scan(self, out_trade_no: str, *, app: str | None = None) -> Trade:
        trade = self.trade(out_trade_no, app=app)
        self.book.scan(trade, self.clock())
        return trade

    async def pay(self, out_trade_no: str, *, app: str | None = None) -> Trade:
        """The buyer scans and pays; the notification is owed (sent now if ``auto_notify``)."""
        trade = self.trade(out_trade_no, app=app)
        if self.book.pay(trade, self.clock()):
            self._notify(trade)
        return trade

    async def deliver(self) -> list[Delivery]:
        """One more try of every notification still owed (tests step through retries)."""
        return await self.notifier.deliver()

    def notification(
        self,
        out_trade_no: str,
        /,
        *,
        app: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        **changes: str,
    ) -> bytes:
        """A notification of the trade's state, signed after ``changes`` (by ``key``, if
        given, instead of Alipay's): a foreign app id signed by Alipay, a forged signature."""
        fields = {**self.notification_fields(self.trade(out_trade_no, app=app)), **changes}
        return self.sign_notification(fields, key=key)

    @staticmethod
    def forge(body: bytes, **changes: str) -> bytes:
        """``body`` with fields changed after it was signed (a tampered notification)."""
        fields = dict(parse_qsl(body.decode("ascii"), keep_blank_values=True))
        return urlencode({**fields, **changes}).encode("ascii")

    async def send(
        self, body: bytes, *, url: str | None = None, content_type: str = FORM
    ) -> Delivery:
        """POST a notification body as Alipay would (to the only trade's URL by default)."""
        target = url or next(t.notify_url for t in self.book.trades.values() if t.notify_url)
        return await self.notifier.send(target, body, content_type=content_type)

    async def aclose(self) -> None:
        await self.notifier.aclose()
