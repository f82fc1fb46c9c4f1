"""WeChat Pay API v3 Native payment: the provider, its configuration and its wire rules."""

from o2o.payments.wechat.config import WechatConfig, from_settings
from o2o.payments.wechat.provider import NAME, WechatPayProvider

__all__ = ["NAME", "WechatConfig", "WechatPayProvider", "from_settings"]
