"""Settings, read from the environment (prefix ``O2O_``) or passed in by tests."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# An installation's prefix of the numbers it sends payment providers (``trade_no_prefix``).
# Ending in a letter keeps prefixes apart: with "A" and "A1" allowed, "A1" + payment 5 and
# "A" + payment 15 would both be "A15"; a letter cannot be read as part of a payment id.
TRADE_NO_PREFIX = re.compile(r"[A-Za-z0-9]{0,7}[A-Za-z]")


class Settings(BaseSettings):
    """Everything the platform needs to start; nothing is read at import time."""

    model_config = SettingsConfigDict(env_prefix="O2O_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/o2o.db"
    redis_url: str | None = None
    data_dir: Path = Path("var")
    secret_key: str = Field(default="dev-only-secret-change-me", min_length=16)
    token_ttl_hours: int = 24 * 30
    session_ttl_hours: int = 24 * 14
    # How long a process trusts a token it has just looked up (0: look it up every time).
    # Logout and role changes apply at once in the process that made them, within this
    # many seconds in the others (accounts.principal_cache).
    principal_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    base_url: str = "http://127.0.0.1:8000"
    default_locale: str = "en"
    # Demo pages show the seeded logins; never on in production.
    demo_mode: bool = False
    sql_echo: bool = False
    # FastAPI's built-in OpenTelemetry (traces, metrics, logs to the global providers). Off
    # unless asked for: even with no provider configured, leaving it on costs every request
    # a look at the environment for one (about 7 % of a small request's CPU, measured).
    telemetry: bool = False
    # Map tiles for the pages' maps ({z}/{x}/{y}); pages still work when tiles cannot load.
    map_tiles_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_attribution: str = "&copy; OpenStreetMap contributors"

    # Orders: how long checkout holds stock until payment, and the grace after a pickup window.
    reservation_ttl_minutes: int = Field(default=15, ge=1, le=24 * 60)
    pickup_grace_minutes: int = Field(default=24 * 60, ge=0, le=30 * 24 * 60)
    # Days after the hand-over (collected, delivered) during which a store takes goods back.
    return_window_days: int = Field(default=30, ge=0, le=365)
    # Platform commission on each order paid online, in basis points (500 = 5%), for merchants
    # without a rate of their own (the admin API sets one per merchant).
    commission_bps_default: int = Field(default=500, ge=0, le=10_000)
    # Run the outbox relay and timers inside the web process (the demo); else `o2o worker`.
    worker_in_process: bool = False
    # Let merchants' webhooks call loopback and private addresses (the demo and tests only:
    # elsewhere that would let a merchant reach the platform's internal network).
    webhooks_allow_private: bool = False
    # The demo's simulated couriers and store staff (docs/delivery.md, "The demo fleet"), run
    # inside the web process; they move this many times faster than real life.
    demo_fleet: bool = False
    demo_speedup: float = Field(default=3.0, gt=0, le=100)

    # Couriers (docs/delivery.md, "The live system"): how often the worker runs a dispatch
    # round; a courier silent longer than the stale time is not dispatched to and loses what
    # it holds, as does one that leaves an assignment unaccepted for the accept time;
    # positions may be timed this far ahead of the clock, and no older than the max age; pay
    # is a fee per delivery topped up to an hourly minimum (minor units).
    dispatch_round_seconds: int = Field(default=30, ge=1, le=3600)
    courier_stale_seconds: int = Field(default=120, ge=10, le=3600)
    courier_accept_seconds: int = Field(default=120, ge=10, le=3600)
    courier_position_skew_seconds: int = Field(default=30, ge=0, le=600)
    courier_position_max_age_seconds: int = Field(default=600, ge=10, le=24 * 3600)
    courier_pay_per_delivery: int = Field(default=500, ge=0)
    courier_hourly_minimum: int = Field(default=2500, ge=0)

    # Payment providers shoppers may choose, the first the default (JSON in the environment:
    # O2O_PAYMENT_PROVIDERS='["alipay","demo"]'). Each one's settings are checked at start-up.
    payment_providers: list[str] = Field(default_factory=lambda: ["demo"], min_length=1)
    # What every merchant order number (out_trade_no) and refund number this installation
    # sends a provider starts with: give each installation (staging, production) sharing one
    # Alipay or WeChat Pay merchant account its own. 1 to 8 letters and digits, ending in a
    # letter, so that no installation's numbers can be read as another's.
    trade_no_prefix: str = "O2O"
    # Alipay face-to-face payment (docs/payments.md): the application's id, its RSA private key
    # and Alipay's public key (PEM files, or the bare base64 Alipay's key tool writes).
    alipay_app_id: str = ""
    alipay_private_key_path: Path | None = None
    alipay_public_key_path: Path | None = None
    alipay_gateway: str = "https://openapi.alipay.com/gateway.do"
    # The demo's Alipay simulator (`o2o demo --payments alipay-sandbox`), mounted at
    # /sandbox/alipay and called in-process instead of the gateway. Never in production.
    alipay_sandbox: bool = False

    # WeChat Pay API v3 (Native QR), used when "wechat" is enabled: see docs/payments.md.
    wechat_mchid: str = ""
    wechat_appid: str = ""
    wechat_merchant_serial: str = ""  # serial number of the merchant's API certificate
    wechat_private_key_path: Path | None = None  # apiclient_key.pem
    wechat_apiv3_key: SecretStr = SecretStr("")  # 32 characters, set in the merchant platform
    wechat_platform_public_key_path: Path | None = None  # WeChat Pay's public key (or cert)
    wechat_platform_serial: str = ""  # its id (PUB_KEY_ID_…) or certificate serial
    wechat_api_base: str = "https://api.mch.weixin.qq.com"
    wechat_notify_url: str = ""  # empty: {base_url}/api/v1/payments/wechat/notify

    @field_validator("trade_no_prefix")
    @classmethod
    def _trade_no_prefix(cls, value: str) -> str:
        if not TRADE_NO_PREFIX.fullmatch(value):
            raise ValueError(
                f"O2O_TRADE_NO_PREFIX={value!r}: use 1 to 8 letters and digits (A-Z, a-z, "
                "0-9) ending in a letter, such as O2O or STG1A"
            )
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"
