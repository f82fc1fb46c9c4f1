"""The merchant's WeChat Pay credentials, read and checked once at start-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from o2o.core.settings import Settings
from o2o.payments.exceptions import ProviderMisconfigured
from o2o.payments.numbers import DEFAULT_PREFIX
from o2o.payments.wechat import crypto

OFFICIAL_API = "https://api.mch.weixin.qq.com"
NOTIFY_PATH = "/api/v1/payments/wechat/notify"
K = TypeVar("K")


@dataclass(frozen=True)
class WechatConfig:
    mchid: str
    appid: str
    merchant_serial: str
    private_key: rsa.RSAPrivateKey
    apiv3_key: bytes
    platform_public_key: rsa.RSAPublicKey
    platform_serial: str
    notify_url: str
    api_base: str = OFFICIAL_API
    # The installation's prefix of out_trade_no (O2O_TRADE_NO_PREFIX).
    trade_no_prefix: str = DEFAULT_PREFIX


def _missing(what: str, env: str) -> ProviderMisconfigured:
    return ProviderMisconfigured(
        f"WeChat Pay is enabled (O2O_PAYMENT_PROVIDERS) but {what} is not set: set {env} "
        "(see docs/payments.md, 'WeChat Pay')."
    )


def _key_file(path: Path | None, what: str, env: str, load: Callable[[Path], K], kind: str) -> K:
    if path is None or not str(path):
        raise _missing(what, env)
    try:
        return load(path)
    except OSError as exc:
        raise ProviderMisconfigured(
            f"WeChat Pay: {env}={path} cannot be read ({exc.strerror or exc})."
        ) from exc
    except ValueError as exc:
        raise ProviderMisconfigured(
            f"WeChat Pay: {env}={path} is not {kind} in PEM form ({exc})."
        ) from exc


def from_settings(settings: Settings) -> WechatConfig:
    """The configuration, or ``ProviderMisconfigured`` saying exactly what to set."""
    for value, what, env in (
        (settings.wechat_mchid, "the merchant id (mchid)", "O2O_WECHAT_MCHID"),
        (settings.wechat_appid, "the app id (appid)", "O2O_WECHAT_APPID"),
        (
            settings.wechat_merchant_serial,
            "the merchant certificate serial number",
            "O2O_WECHAT_MERCHANT_SERIAL",
        ),
        (
            settings.wechat_platform_serial,
            "the WeChat Pay public key id or platform certificate serial",
            "O2O_WECHAT_PLATFORM_SERIAL",
        ),
    ):
        if not value.strip():
            raise _missing(what, env)
    apiv3 = settings.wechat_apiv3_key.get_secret_value().encode()
    if not apiv3:
        raise _missing("the API v3 key", "O2O_WECHAT_APIV3_KEY")
    if len(apiv3) != 32:
        raise ProviderMisconfigured(
            f"WeChat Pay: O2O_WECHAT_APIV3_KEY must be exactly 32 characters (it has "
            f"{len(apiv3)}); copy it as set in the merchant platform (API安全 → APIv3密钥)."
        )
    private_key = _key_file(
        settings.wechat_private_key_path,
        "the merchant private key file",
        "O2O_WECHAT_PRIVATE_KEY_PATH",
        crypto.load_private_key,
        "an RSA private key",
    )
    public_key = _key_file(
        settings.wechat_platform_public_key_path,
        "the WeChat Pay public key file",
        "O2O_WECHAT_PLATFORM_PUBLIC_KEY_PATH",
        crypto.load_public_key,
        "an RSA public key or certificate",
    )
    api_base = settings.wechat_api_base.rstrip("/")
    if urlsplit(api_base).scheme not in ("http", "https") or not urlsplit(api_base).netloc:
        raise ProviderMisconfigured(
            f"WeChat Pay: O2O_WECHAT_API_BASE={api_base!r} is not an http(s) URL."
        )
    notify_url = settings.wechat_notify_url or settings.base_url.rstrip("/") + NOTIFY_PATH
    # WeChat Pay only calls public HTTPS addresses; an http one would never be notified.
    if api_base == OFFICIAL_API and not notify_url.startswith("https://"):
        raise ProviderMisconfigured(
            f"WeChat Pay: notifications must go to a public https URL, not {notify_url!r}: "
            "set O2O_BASE_URL (or O2O_WECHAT_NOTIFY_URL) to the platform's https address."
        )
    return WechatConfig(
        mchid=settings.wechat_mchid.strip(),
        appid=settings.wechat_appid.strip(),
        merchant_serial=settings.wechat_merchant_serial.strip(),
        private_key=private_key,
        apiv3_key=apiv3,
        platform_public_key=public_key,
        platform_serial=settings.wechat_platform_serial.strip(),
        notify_url=notify_url,
        api_base=api_base,
        trade_no_prefix=settings.trade_no_prefix,
    )
