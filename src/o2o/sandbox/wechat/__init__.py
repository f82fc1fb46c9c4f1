"""A simulated WeChat Pay (API v3 Native): merchant API, wallet page and notifications."""

from o2o.sandbox.wechat.books import Merchant
from o2o.sandbox.wechat.simulator import WechatPaySimulator

__all__ = ["Merchant", "WechatPaySimulator"]
