"""The simulated WeChat Pay's HTTP side: the merchant API v3 endpoints O2O uses, answered
as WeChat Pay answers them (signed, with its error codes), and the wallet page."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from o2o.sandbox.wechat import page, signing
from o2o.sandbox.wechat.books import CST, Merchant, RefundRecord, Trade, cst, trade_bill

if TYPE_CHECKING:
    from o2o.sandbox.wechat.simulator import WechatPaySimulator

TOLERANCE_SECONDS = 300
OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-|*]{6,32}")
OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
MAX_REFUNDS = 50


class Refusal(Exception):
    """WeChat Pay's error answer: an HTTP status, its ``code`` and a ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _positive_int(value: object) -> bool:
    return type(value) is int and value > 0


def build_app(sim: WechatPaySimulator) -> Starlette:  # noqa: PLR0915 (a closure per endpoint)
    def answer(status: int, data: dict[str, Any] | None = None, *, signed: bool = True) -> Response:
        body = b"" if data is None else json.dumps(data, ensure_ascii=False).encode()
        media = "application/json" if data is not None else None
        if not signed:
            return Response(body, status_code=status, media_type=media)
        stamp, nonce = str(int(sim.clock())), signing.nonce_str()
        signature = signing.platform_signature(sim.platform_key, stamp, nonce, body)
        if sim.forge_answers:
            signature = signing.platform_signature(sim.platform_key, stamp, nonce, body + b" ")
        headers = {
            "Request-ID": secrets.token_hex(16),
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": signature,
            "Wechatpay-Serial": sim.platform_serial,
            "Wechatpay-Signature-Type": signing.SCHEME,
        }
        return Response(body, status_code=status, headers=headers, media_type=media)

    async def authenticate(request: Request) -> tuple[Merchant, bytes]:
        """The merchant whose signature the request carries, and the body it signed."""
        body = await request.body()
        creds = signing.parse_authorization(request.headers.get("authorization", ""))
        if creds is None:
            raise Refusal(401, "SIGN_ERROR", "Authorization 头缺失或格式不正确")
        merchant = sim.merchants.get(creds.mchid)
        if merchant is None:
            raise Refusal(401, "SIGN_ERROR", "商户号不存在")
        if creds.serial_no != merchant.serial_no:
            raise Refusal(401, "SIGN_ERROR", "商户证书序列号不正确")
        if not re.fullmatch(r"[0-9]{1,12}", creds.timestamp) or (
            abs(sim.clock() - int(creds.timestamp)) > TOLERANCE_SECONDS
        ):
            raise Refusal(401, "SIGN_ERROR", "请求时间戳已过期")
        url = request.scope["raw_path"].decode()
        if request.scope.get("query_string"):
            url += "?" + request.scope["query_string"].decode()
        if not signing.merchant_signed(merchant.public_key, creds, request.method, url, body):
            raise Refusal(401, "SIGN_ERROR", "签名错误")
        if sim.fail_next > 0:
            sim.fail_next -= 1
            raise Refusal(sim.fail_status, "SYSTEM_ERROR", "系统错误")
        return merchant, body

    def json_body(raw: bytes) -> dict[str, Any]:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise Refusal(400, "PARAM_ERROR", "请求体不是合法的JSON") from exc
        if not isinstance(data, dict):
            raise Refusal(400, "PARAM_ERROR", "请求体必须是JSON对象")
        return data

    def own_trade(merchant: Merchant, out_trade_no: str) -> Trade:
        trade = sim.trades.get((merchant.mchid, out_trade_no))
        if trade is None:
            raise Refusal(404, "ORDER_NOT_EXIST", "订单不存在")
        return sim.refresh(trade)

    def endpoint(handler: Any) -> Any:
        async def run(request: Request) -> Response:
            try:
                merchant, raw = await authenticate(request)
                done: Response = await handler(request, merchant, raw)
                if sim.fail_after_next > 0:  # carried out, then WeChat Pay's system fails
                    sim.fail_after_next -= 1
                    raise Refusal(sim.fail_status, "SYSTEM_ERROR", "系统错误")
                return done
            except Refusal as refusal:
                # WeChat Pay signs its answer only once the merchant's signature checked out.
                return answer(
                    refusal.status,
                    {"code": refusal.code, "message": refusal.message},
                    signed=refusal.code != "SIGN_ERROR",
                )

        return run

    async def native(request: Request, merchant: Merchant, raw: bytes) -> Response:
        data = json_body(raw)
        if data.get("mchid") != merchant.mchid:
            raise Refusal(400, "INVALID_REQUEST", "mchid与请求头中的商户号不一致")
        if data.get("appid") != merchant.appid:
            raise Refusal(400, "APPID_MCHID_NOT_MATCH", "AppID和mch_id不匹配")
        out_trade_no, description = data.get("out_trade_no"), data.get("description")
        notify_url, amount = data.get("notify_url"), data.get("amount")
        if not isinstance(out_trade_no, str) or not OUT_TRADE_NO.fullmatch(out_trade_no):
            raise Refusal(400, "PARAM_ERROR", "out_trade_no 格式不正确")
        if not isinstance(description, str) or not 1 <= len(description) <= 127:
            raise Refusal(400, "PARAM_ERROR", "description 长度不正确")
        if (
            not isinstance(notify_url, str)
            or not notify_url.startswith(("https://", "http://"))
            or "?" in notify_url
        ):
            raise Refusal(400, "PARAM_ERROR", "notify_url 必须是不带查询串的完整URL")
        if not isinstance(amount, dict) or not _positive_int(amount.get("total")):
            raise Refusal(400, "PARAM_ERROR", "amount.total 必须是正整数(分)")
        if amount.get("currency", "CNY") != "CNY":
            raise Refusal(400, "PARAM_ERROR", "amount.currency 只支持CNY")
        time_expire = None
        if "time_expire" in data:
            try:
                time_expire = datetime.fromisoformat(str(data["time_expire"]))
            except ValueError as exc:
                raise Refusal(400, "PARAM_ERROR", "time_expire 格式不正确") from exc
            if time_expire.tzinfo is None:
                raise Refusal(400, "PARAM_ERROR", "time_expire 须带时区")
        existing = sim.trades.get((merchant.mchid, out_trade_no))
        if existing is not None:
            same = (existing.total, existing.description) == (amount["total"], description)
            if not same or sim.refresh(existing).state != "NOTPAY":
                raise Refusal(403, "OUT_TRADE_NO_USED", "商户订单号重复")
            return answer(200, {"code_url": sim.code_url(existing)})
        trade = Trade(
            mchid=merchant.mchid,
            appid=merchant.appid,
            out_trade_no=out_trade_no,
            description=description,
            notify_url=notify_url,
            total=amount["total"],
            currency="CNY",
            created_at=sim.now(),
            time_expire=time_expire,
        )
        sim.trades[(merchant.mchid, out_trade_no)] = trade
        return answer(200, {"code_url": sim.code_url(trade)})

    async def query(request: Request, merchant: Merchant, _raw: bytes) -> Response:
        if request.query_params.get("mchid") != merchant.mchid:
            raise Refusal(400, "PARAM_ERROR", "mchid 参数缺失或与请求头不一致")
        trade = own_trade(merchant, request.path_params["out_trade_no"])
        return answer(200, trade.as_transaction())

    async def close(request: Request, merchant: Merchant, raw: bytes) -> Response:
        if json_body(raw).get("mchid") != merchant.mchid:
            raise Refusal(400, "PARAM_ERROR", "mchid 缺失或与请求头不一致")
        trade = own_trade(merchant, request.path_params["out_trade_no"])
        if trade.state in ("SUCCESS", "REFUND"):
            raise Refusal(403, "TRADE_ERROR", "订单已支付,不能关闭")
        trade.state = "CLOSED"
        return answer(204)

    def refund_view(trade: Trade, refund: RefundRecord, status: str) -> dict[str, Any]:
        return {
            "refund_id": refund.refund_id,
            "out_refund_no": refund.out_refund_no,
            "transaction_id": trade.transaction_id,
            "out_trade_no": trade.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": cst(refund.created_at),
            "success_time": cst(refund.created_at) if status == "SUCCESS" else None,
            "status": status,
            "funds_account": "AVAILABLE",
            "amount": {
                "total": trade.total,
                "refund": refund.amount,
                "payer_total": trade.total,
                "payer_refund": refund.amount,
                "settlement_total": trade.total,
                "settlement_refund": refund.amount,
                "discount_refund": 0,
                "currency": trade.currency,
                "from": [],
            },
            "promotion_detail": [],
        }

    async def refund(_request: Request, merchant: Merchant, raw: bytes) -> Response:
        if sim.refuse_refunds is not None:
            raise Refusal(*sim.refuse_refunds)
        data = json_body(raw)
        out_refund_no, amount = data.get("out_refund_no"), data.get("amount")
        if not isinstance(out_refund_no, str) or not OUT_REFUND_NO.fullmatch(out_refund_no):
            raise Refusal(400, "PARAM_ERROR", "out_refund_no 格式不正确")
        if (
            not isinstance(amount, dict)
            or not _positive_int(amount.get("refund"))
            or not _positive_int(amount.get("total"))
            or amount.get("currency") != "CNY"
        ):
            raise Refusal(400, "PARAM_ERROR", "amount 须含正整数 refund、total 与 currency CNY")
        if isinstance(data.get("transaction_id"), str):
            found = [
                t
                for t in sim.trades.values()
                if t.mchid == merchant.mchid and t.transaction_id == data["transaction_id"]
            ]
            if not found:
                raise Refusal(404, "RESOURCE_NOT_EXISTS", "订单不存在")
            trade = found[0]
        else:
            try:
                trade = own_trade(merchant, str(data.get("out_trade_no", "")))
            except Refusal as exc:
                raise Refusal(404, "RESOURCE_NOT_EXISTS", "订单不存在") from exc
        if trade.state not in ("SUCCESS", "REFUND"):
            raise Refusal(400, "INVALID_REQUEST", "订单未支付,不能退款")
        done = next((r for r in trade.refunds if r.out_refund_no == out_refund_no), None)
        if done is not None:  # the same request again: the refund already made
            if done.amount != amount["refund"]:
                raise Refusal(400, "INVALID_REQUEST", "同一退款单号的请求参数不一致")
            return answer(200, refund_view(trade, done, "SUCCESS"))
        if amount["total"] != trade.total:
            raise Refusal(400, "INVALID_REQUEST", "订单金额与原订单不一致")
        if trade.refunded + amount["refund"] > trade.total:
            raise Refusal(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        if len(trade.refunds) >= MAX_REFUNDS:
            raise Refusal(400, "INVALID_REQUEST", "部分退款次数超过限制")
        made = RefundRecord(
            out_refund_no=out_refund_no,
            refund_id=f"5030{sim.now():%Y%m%d}{secrets.randbelow(10**16):016d}",
            amount=amount["refund"],
            created_at=sim.now(),
            reason=str(data.get("reason", ""))[:80],
        )
        trade.refunds.append(made)
        if trade.refunded == trade.total:
            trade.state = "REFUND"
        return answer(200, refund_view(trade, made, "PROCESSING"))

    async def refund_query(request: Request, merchant: Merchant, _raw: bytes) -> Response:
        number = request.path_params["out_refund_no"]
        for trade in sim.trades.values():
            for made in trade.refunds:
                if trade.mchid == merchant.mchid and made.out_refund_no == number:
                    return answer(200, refund_view(trade, made, "SUCCESS"))
        raise Refusal(404, "RESOURCE_NOT_EXISTS", "退款单不存在")

    async def tradebill(request: Request, merchant: Merchant, _raw: bytes) -> Response:
        try:
            day = date.fromisoformat(request.query_params.get("bill_date", ""))
        except ValueError as exc:
            raise Refusal(400, "PARAM_ERROR", "bill_date 格式应为 YYYY-MM-DD") from exc
        if request.query_params.get("bill_type", "ALL") != "ALL":
            raise Refusal(400, "PARAM_ERROR", "沙箱只提供 ALL 类型账单")
        today = sim.now().astimezone(CST).date()
        if day >= today and not sim.bills_ready_at_once:
            raise Refusal(400, "STATEMENT_CREATING", "账单生成中")
        mine = [t for t in sim.trades.values() if t.mchid == merchant.mchid]
        text = trade_bill(mine, day)
        if text is None:
            raise Refusal(400, "NO_STATEMENT_EXIST", "账单文件不存在")
        raw = text.encode()
        token = secrets.token_urlsafe(24)
        sim.downloads[token] = (raw, sim.clock() + 30)  # WeChat Pay's links live 30 s
        base = str(request.base_url).rstrip("/")
        return answer(
            200,
            {
                "hash_type": "SHA1",
                "hash_value": hashlib.sha1(raw).hexdigest(),  # noqa: S324 (WeChat Pay's choice)
                "download_url": f"{base}/v3/billdownload/file?token={token}",
            },
        )

    async def download(request: Request, _merchant: Merchant, _raw: bytes) -> Response:
        raw, until = sim.downloads.get(request.query_params.get("token", ""), (b"", 0.0))
        if not raw or sim.clock() > until:
            raise Refusal(400, "INVALID_REQUEST", "下载链接已失效,请重新申请账单")
        # The file itself is not signed: its SHA-1 came in the signed answer.
        return Response(raw, media_type="application/octet-stream")

    async def wallet(request: Request) -> Response:
        trade = sim.trade_by_code(request.path_params["code"])
        if trade is None:
            return HTMLResponse(page.missing(), status_code=404)
        if request.method == "POST":
            sim.pay_in_background(trade)
            return RedirectResponse(request.url.path, status_code=303)
        delivery = sim.deliveries.get(trade.out_trade_no)
        return HTMLResponse(page.render(sim.refresh(trade), delivery))

    prefix = "/v3/pay/transactions/out-trade-no/{out_trade_no}"
    return Starlette(
        routes=[
            Route("/v3/pay/transactions/native", endpoint(native), methods=["POST"]),
            Route(prefix, endpoint(query), methods=["GET"]),
            Route(f"{prefix}/close", endpoint(close), methods=["POST"]),
            Route("/v3/refund/domestic/refunds", endpoint(refund), methods=["POST"]),
            Route(
                "/v3/refund/domestic/refunds/{out_refund_no}",
                endpoint(refund_query),
                methods=["GET"],
            ),
            Route("/v3/bill/tradebill", endpoint(tradebill), methods=["GET"]),
            Route("/v3/billdownload/file", endpoint(download), methods=["GET"]),
            Route("/pay/{code}", wallet, methods=["GET", "POST"]),
        ]
    )
