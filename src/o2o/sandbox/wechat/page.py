"""The wallet page: what the WeChat app shows after a scan, where the payer presses Pay.

It belongs to the simulated WeChat Pay, not to O2O, so it has its own look and speaks both
languages at once, as a sandbox seen by English and Chinese readers alike.
"""

from __future__ import annotations

from html import escape

from o2o.sandbox.wechat.books import Trade, yuan
from o2o.sandbox.wechat.notifier import Delivery

STYLE = """
body{margin:0;font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;
background:#ededed;color:#111}
main{max-width:420px;margin:0 auto;padding:24px 16px}
.brand{color:#07c160;font-weight:700;font-size:15px;margin:0 0 4px}
.sandbox{font-size:12px;color:#6b6b6b;margin:0 0 24px}
.card{background:#fff;border-radius:12px;padding:24px;text-align:center}
.what{color:#555;margin:0 0 8px;word-break:break-all}
.amount{font-size:40px;font-weight:600;margin:8px 0 24px}
button{width:100%;min-height:48px;border:0;border-radius:8px;background:#07c160;color:#fff;
font-size:18px;font-weight:600;cursor:pointer}
button:focus-visible{outline:3px solid #0a6;outline-offset:2px}
.state{font-size:18px;font-weight:600}
.ok{color:#07a050}.closed{color:#b00}
.small{font-size:13px;color:#6b6b6b;margin-top:16px}
ul{padding-left:18px;text-align:left}
"""


def _shell(body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>微信支付 WeChat Pay (sandbox)</title><style>{STYLE}</style></head>"
        f'<body><main><p class="brand">微信支付 WeChat Pay</p><p class="sandbox">'
        "沙箱环境，不会扣款 · Sandbox: no real money moves</p>"
        f"{body}</main></body></html>"
    )


def render(trade: Trade, delivery: Delivery | None) -> str:
    what = f'<p class="what">{escape(trade.description)}</p><p class="small">商户号 Merchant '
    what += f"{escape(trade.mchid)}</p>"
    amount = f'<p class="amount">¥{yuan(trade.total)}</p>'
    if trade.state == "NOTPAY":
        action = (
            '<form method="post"><button type="submit">立即支付 Pay</button></form>'
            '<p class="small">付款后，微信支付会通知商户，商户页面将自动更新。<br>'
            "After you pay, WeChat Pay notifies the shop; its page updates by itself.</p>"
        )
    elif trade.state in ("SUCCESS", "REFUND"):
        action = '<p class="state ok">支付成功 · Paid</p>'
        action += '<p class="small">可以返回商户页面了 · You can go back to the shop.</p>'
        action += _deliveries(delivery)
    else:
        action = '<p class="state closed">订单已关闭 · This payment was closed</p>'
        action += '<p class="small">请返回商户重新下单 · Go back to the shop and pay again.</p>'
    return _shell(f'<div class="card">{what}{amount}{action}</div>')


def _deliveries(delivery: Delivery | None) -> str:
    if delivery is None or not delivery.attempts:
        return '<p class="small">正在通知商户… · Notifying the shop…</p>'
    items = "".join(
        f"<li>{escape(str(a.status) if a.status is not None else 'no answer · 无应答')}</li>"
        for a in delivery.attempts
    )
    return f'<div class="small">通知商户 · Notifications to the shop:<ul>{items}</ul></div>'


def missing() -> str:
    return _shell(
        '<div class="card"><p class="state closed">二维码无效 · This code is not valid</p>'
        '<p class="small">请返回商户重新获取 · Go back to the shop for a new code.</p></div>'
    )
