"""WeChat Pay enabled but misconfigured stops the platform at start-up, saying what to set."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from o2o.bootstrap import create_app, payment_providers
from o2o.core.settings import Settings
from o2o.payments.exceptions import ProviderMisconfigured
from o2o.payments.wechat import WechatPayProvider
from o2o.sandbox.wechat.provision import provision
from tests.payments.wechat_scene import wechat_settings

Keys = tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]


@pytest.fixture
def good(tmp_path: Path, wechat_keys: Keys) -> dict[str, Any]:
    account = provision(
        tmp_path / "wechat", merchant_key=wechat_keys[0], platform_key=wechat_keys[1]
    )
    settings = wechat_settings(account, tmp_path / "data")
    return settings.model_dump()


def test_a_complete_configuration_builds_the_provider(good: dict[str, Any]) -> None:
    providers = payment_providers(Settings(**good))
    assert providers.names == ["demo", "wechat"]
    assert providers.offered == ["demo", "wechat"]
    assert providers.default == "demo"
    provider = providers.get("wechat")
    assert isinstance(provider, WechatPayProvider)
    assert provider.config.notify_url == "https://shop.example/api/v1/payments/wechat/notify"
    assert len(provider.config.apiv3_key) == 32


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"wechat_mchid": ""}, "O2O_WECHAT_MCHID"),
        ({"wechat_appid": " "}, "O2O_WECHAT_APPID"),
        ({"wechat_merchant_serial": ""}, "O2O_WECHAT_MERCHANT_SERIAL"),
        ({"wechat_platform_serial": ""}, "O2O_WECHAT_PLATFORM_SERIAL"),
        ({"wechat_apiv3_key": ""}, "O2O_WECHAT_APIV3_KEY"),
        ({"wechat_apiv3_key": "x" * 31}, "exactly 32 characters (it has 31)"),
        ({"wechat_private_key_path": None}, "O2O_WECHAT_PRIVATE_KEY_PATH"),
        ({"wechat_private_key_path": Path("/nonexistent/apiclient_key.pem")}, "cannot be read"),
        ({"wechat_platform_public_key_path": None}, "O2O_WECHAT_PLATFORM_PUBLIC_KEY_PATH"),
        ({"wechat_api_base": "ftp://example"}, "O2O_WECHAT_API_BASE"),
        (
            {"wechat_api_base": "https://api.mch.weixin.qq.com", "base_url": "http://10.0.0.2"},
            "public https URL",
        ),
        ({"payment_providers": ["demo", "wechatpay"]}, "wechatpay is not a provider"),
    ],
)
def test_misconfiguration_is_refused_at_start_up(
    good: dict[str, Any], change: dict[str, Any], says: str
) -> None:
    settings = Settings(**{**good, **change})
    with pytest.raises(ProviderMisconfigured, match=re.escape(says)):
        create_app(settings)


def test_keys_in_the_wrong_form_are_named(good: dict[str, Any], tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ProviderMisconfigured, match="is not an RSA private key"):
        payment_providers(Settings(**{**good, "wechat_private_key_path": junk}))
    # the merchant's private key where WeChat Pay's public key belongs
    swapped = {**good, "wechat_platform_public_key_path": good["wechat_private_key_path"]}
    with pytest.raises(ProviderMisconfigured, match="is not an RSA public key"):
        payment_providers(Settings(**swapped))


def test_wechat_is_off_unless_enabled(tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite+aiosqlite://", data_dir=tmp_path)
    assert payment_providers(settings).names == ["demo"]
