"""Alipay's settings are checked when the app is built: a missing, unreadable or wrong key is
an error at start-up that names the setting to fix, never a failure at the first payment."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from o2o.bootstrap import create_app, payment_providers
from o2o.core.settings import Settings
from o2o.payments.alipay import AlipayProvider
from o2o.payments.exceptions import ProviderMisconfigured
from o2o.sandbox.alipay import KeyFiles, ensure_keys


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyFiles:
    return ensure_keys(tmp_path_factory.mktemp("alipay-keys"))


def production(keys: KeyFiles, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "secret_key": "test-secret-key-0123456789",
        "payment_providers": ["alipay"],
        "alipay_app_id": "2021000000000001",
        "alipay_private_key_path": keys.app_private,
        "alipay_public_key_path": keys.alipay_public,
        **overrides,
    }
    return Settings.model_validate(values)


def test_keys_as_pem_or_as_the_bare_base64_alipay_hands_out(keys: KeyFiles, tmp_path: Path) -> None:
    providers = payment_providers(production(keys, payment_providers=["alipay", "demo"]))
    assert providers.names == ["alipay", "demo"]
    assert isinstance(providers.get("alipay"), AlipayProvider)
    # Alipay's key tool writes one line of base64 (PKCS#1 for the app key), no PEM armour
    private = serialization.load_pem_private_key(keys.app_private.read_bytes(), password=None)
    bare_private = tmp_path / "app_private_key.txt"
    bare_private.write_bytes(
        base64.b64encode(
            private.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
    )
    public = serialization.load_pem_public_key(keys.alipay_public.read_bytes())
    bare_public = tmp_path / "alipay_public_key.txt"
    bare_public.write_bytes(
        base64.b64encode(
            public.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        + b"\n"
    )
    settings = production(
        keys, alipay_private_key_path=bare_private, alipay_public_key_path=bare_public
    )
    assert payment_providers(settings).names == ["alipay"]


def _small_key(tmp_path: Path) -> Path:
    # A key too small on purpose: the start-up check must refuse it.
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    path = tmp_path / "small.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alipay_app_id": ""}, "O2O_ALIPAY_APP_ID is not set"),
        ({"alipay_app_id": "my-app"}, "O2O_ALIPAY_APP_ID is not an APPID"),
        ({"alipay_private_key_path": None}, "O2O_ALIPAY_PRIVATE_KEY_PATH is not set"),
        ({"alipay_public_key_path": None}, "O2O_ALIPAY_PUBLIC_KEY_PATH is not set"),
        ({"alipay_private_key_path": "missing.pem"}, "missing.pem cannot be read"),
        ({"alipay_private_key_path": "garbage"}, "is not an RSA private key"),
        ({"alipay_public_key_path": "garbage"}, "is not an RSA public key"),
        ({"alipay_private_key_path": "small"}, "1024-bit key; RSA2 needs 2048 bits"),
        ({"alipay_public_key_path": "own"}, "holds your application's own public key"),
        ({"alipay_gateway": "http://openapi.alipay.com/gateway.do"}, "is not an https:// URL"),
        ({"payment_providers": ["alipay", "paypal"]}, "paypal is not a provider"),
    ],
)
def test_a_wrong_setting_stops_the_start_and_says_what_to_set(
    keys: KeyFiles, tmp_path: Path, change: dict[str, object], message: str
) -> None:
    garbage = tmp_path / "garbage"
    garbage.write_text("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
    files = {
        "missing.pem": tmp_path / "missing.pem",
        "garbage": garbage,
        "small": _small_key(tmp_path),
        "own": keys.app_public,
    }
    resolved = {k: files.get(v, v) if isinstance(v, str) else v for k, v in change.items()}
    with pytest.raises(ProviderMisconfigured, match=message):
        create_app(production(keys, **resolved))


def test_the_demo_wallet_alone_needs_no_alipay_settings() -> None:
    settings = Settings(secret_key="test-secret-key-0123456789")
    assert payment_providers(settings).names == ["demo"]


def test_sandbox_mode_without_its_keys_says_how_to_make_them(
    keys: KeyFiles, tmp_path: Path
) -> None:
    settings = production(keys, alipay_sandbox=True, data_dir=tmp_path / "empty")
    with pytest.raises(ProviderMisconfigured, match="o2o demo --payments alipay-sandbox"):
        create_app(settings)
