"""The sandbox's wallet screen: what the Alipay app shows after scanning a face-to-face code.

It is the other company's screen, so it carries its own words in both languages rather than
the platform's catalogs, and needs no O2O login: the code in its address is what opens it.
"""

from __future__ import annotations

from html import escape

from o2o.sandbox.alipay.book import CLOSED, SUCCESS, Trade, yuan

STYLE = """
body{margin:0;font:16px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;
background:#f5f5f5;color:#1f1f1f}
header{background:#1677ff;color:#fff;padding:12px 16px;font-weight:600}
main{max-width:420px;margin:0 auto;padding:24px 16px;text-align:center}
.amount{font-size:40px;font-weight:700;margin:8px 0 4px}
.muted{color:#666;font-size:14px}
button{width:100%;padding:14px;border:0;border-radius:8px;background:#1677ff;color:#fff;
font-size:18px;font-weight:600;cursor:pointer;margin-top:24px}
button:focus-visible{outline:3px solid #0a3d91;outline-offset:2px}
.done{color:#0a8a3a;font-size:20px;font-weight:600;margin-top:24px}
.closed{color:#b3261e;font-weight:600;margin-top:24px}
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        "<header>支付宝 · Alipay <small>(sandbox 沙箱)</small></header>"
        f"<main>{body}</main></body></html>"
    )


def wallet(trade: Trade, *, pay_action: str) -> str:
    """The payment screen: who is paid, how much, and the Pay button or the outcome."""
    if trade.status == SUCCESS or trade.refunds:
        outcome = '<p class="done" role="status">✓ 支付成功 · Paid</p>'
        outcome += '<p class="muted">可以返回商家页面 · You can go back to the shop.</p>'
    elif trade.status == CLOSED:
        outcome = '<p class="closed" role="alert">交易已关闭 · This payment was closed.</p>'
    else:
        outcome = (
            f'<form method="post" action="{escape(pay_action)}">'
            '<button type="submit" id="alipay-pay">确认付款 · Pay</button></form>'
        )
    body = (
        f'<p class="muted">付款给 · Pay to</p><h1>{escape(trade.subject)}</h1>'
        f'<p class="amount">¥{yuan(trade.amount)}</p>{outcome}'
        f'<p class="muted">交易号 · Trade {escape(trade.trade_no)}</p>'
        '<p class="muted">这是支付宝沙箱：不会真实扣款 · '
        "This is the Alipay sandbox: no real money moves.</p>"
    )
    return _page("支付宝 · Alipay", body)


def not_found() -> str:
    return _page(
        "支付宝 · Alipay",
        '<p class="closed" role="alert">二维码无效或已过期 · '
        "This code is not valid or has expired.</p>",
    )
