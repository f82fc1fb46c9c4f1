"""Alipay's settings, checked once at start-up: a missing or wrong key is an error that says
what to set, never a failure at the first payment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from o2o.core.settings import Settings
from o2o.payments.alipay import signing
from o2o.payments.exceptions import ProviderMisconfigured
from o2o.payments.numbers import DEFAULT_PREFIX

# The shared notification route of the API (o2o.api.routes.payments), under the public base URL.
NOTIFY_PATH = "/api/v1/payments/alipay/notify"
MIN_KEY_BITS = 2048  # RSA2 is defined on 2048-bit keys
DOCS = "see docs/payments.md, section Alipay"


@dataclass(frozen=True)
class AlipayConfig:
    app_id: str
    private_key: rsa.RSAPrivateKey
    alipay_public_key: rsa.RSAPublicKey
    gateway: str
    notify_url: str
    # The installation's prefix of out_trade_no (O2O_TRADE_NO_PREFIX).
    trade_no_prefix: str = DEFAULT_PREFIX

    @classmethod
    def from_settings(cls, settings: Settings, *, gateway: str | None = None) -> AlipayConfig:
        """The configuration ``settings`` give; ``gateway`` replaces the configured one (the
        sandbox). Raises ``ProviderMisconfigured`` with what to set."""
        app_id = settings.alipay_app_id.strip()
        if not app_id.isdigit():
            raise ProviderMisconfigured(
                "Alipay is enabled (O2O_PAYMENT_PROVIDERS) but O2O_ALIPAY_APP_ID is "
                f"{'not set' if not app_id else 'not an APPID'}: set it to your application's "
                f"APPID (digits) from the Alipay open platform; {DOCS}."
            )
        private_key = signing_key(settings.alipay_private_key_path)
        public_key = alipay_key(settings.alipay_public_key_path)
        if public_key.public_numbers() == private_key.public_key().public_numbers():
            raise ProviderMisconfigured(
                "O2O_ALIPAY_PUBLIC_KEY_PATH holds your application's own public key: it must "
                f"hold Alipay's public key (支付宝公钥), shown beside your app's key; {DOCS}."
            )
        url = gateway or settings.alipay_gateway
        if gateway is None and not url.startswith("https://"):
            raise ProviderMisconfigured(
                f"O2O_ALIPAY_GATEWAY={url!r} is not an https:// URL: use "
                "https://openapi.alipay.com/gateway.do (or Alipay's sandbox gateway)."
            )
        return cls(
            app_id=app_id,
            private_key=private_key,
            alipay_public_key=public_key,
            gateway=url,
            notify_url=settings.base_url.rstrip("/") + NOTIFY_PATH,
            trade_no_prefix=settings.trade_no_prefix,
        )


def _read(path: Path | None, variable: str, what: str) -> bytes:
    if path is None:
        raise ProviderMisconfigured(
            f"Alipay is enabled (O2O_PAYMENT_PROVIDERS) but {variable} is not set: set it to "
            f"the file of {what}; {DOCS}."
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ProviderMisconfigured(
            f"{variable}={path} cannot be read ({exc.strerror or exc}): it must be the file "
            f"of {what}; {DOCS}."
        ) from exc


def signing_key(path: Path | None) -> rsa.RSAPrivateKey:
    variable, what = "O2O_ALIPAY_PRIVATE_KEY_PATH", "your application's RSA2 private key"
    data = _read(path, variable, what)
    try:
        key = signing.load_private_key(data)
    except (ValueError, TypeError) as exc:
        raise ProviderMisconfigured(
            f"{variable}={path} is not an RSA private key: it must hold {what} (PEM, PKCS#1 or "
            f"PKCS#8, or the base64 text Alipay's key tool writes), unencrypted; {DOCS}."
        ) from exc
    if key.key_size < MIN_KEY_BITS:
        raise ProviderMisconfigured(
            f"{variable}={path} is a {key.key_size}-bit key; RSA2 needs 2048 bits or more."
        )
    return key


def alipay_key(path: Path | None) -> rsa.RSAPublicKey:
    variable, what = "O2O_ALIPAY_PUBLIC_KEY_PATH", "Alipay's public key (支付宝公钥)"
    data = _read(path, variable, what)
    try:
        return signing.load_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ProviderMisconfigured(
            f"{variable}={path} is not an RSA public key: it must hold {what}, PEM or the "
            f"base64 text the open platform shows (public-key mode, not certificates); {DOCS}."
        ) from exc
