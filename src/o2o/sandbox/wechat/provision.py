"""A sandbox merchant account: both sides' keys and ids, kept in a directory.

In real life the merchant makes its API key pair and registers the certificate (serial) with
WeChat Pay, sets a 32-character API v3 key, and downloads WeChat Pay's public key and its id.
Here all of that is generated once and written beside the demo's data, so the platform is
configured exactly as a real merchant would configure it: by file paths and serials.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from o2o.sandbox.wechat.books import Merchant

ACCOUNT_FILE = "account.json"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_private(path: Path, key: rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _write_public(path: Path, key: rsa.RSAPublicKey) -> None:
    path.write_bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


@dataclass(frozen=True)
class SandboxAccount:
    directory: Path
    mchid: str
    appid: str
    merchant_serial: str
    platform_serial: str
    apiv3_key: str

    # The merchant's side: what the platform is configured with.
    @property
    def merchant_key_path(self) -> Path:
        return self.directory / "apiclient_key.pem"

    @property
    def platform_public_key_path(self) -> Path:
        return self.directory / "pub_key.pem"

    # WeChat Pay's side: its own key, and the merchant's registered public key.
    @property
    def platform_key_path(self) -> Path:
        return self.directory / "wechatpay_platform_private.pem"

    @property
    def merchant_public_key_path(self) -> Path:
        return self.directory / "merchant_registered_public.pem"

    def platform_key(self) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key(self.platform_key_path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TypeError("the platform key is not RSA")
        return key

    def merchant(self) -> Merchant:
        key = serialization.load_pem_public_key(self.merchant_public_key_path.read_bytes())
        if not isinstance(key, rsa.RSAPublicKey):
            raise TypeError("the merchant key is not RSA")
        return Merchant(self.mchid, self.appid, self.merchant_serial, key, self.apiv3_key.encode())

    def settings(self, *, api_base: str) -> dict[str, object]:
        """The platform's settings (``O2O_WECHAT_*``) for this merchant."""
        return {
            "wechat_mchid": self.mchid,
            "wechat_appid": self.appid,
            "wechat_merchant_serial": self.merchant_serial,
            "wechat_private_key_path": self.merchant_key_path,
            "wechat_apiv3_key": self.apiv3_key,
            "wechat_platform_public_key_path": self.platform_public_key_path,
            "wechat_platform_serial": self.platform_serial,
            "wechat_api_base": api_base,
        }


def provision(
    directory: Path,
    *,
    merchant_key: rsa.RSAPrivateKey | None = None,
    platform_key: rsa.RSAPrivateKey | None = None,
) -> SandboxAccount:
    """The account kept in ``directory``, made on first use (keys may be passed in: making
    RSA keys takes a moment, tests make theirs once)."""
    saved = directory / ACCOUNT_FILE
    if saved.exists():
        fields = json.loads(saved.read_text())
        return SandboxAccount(directory=directory, **fields)
    directory.mkdir(parents=True, exist_ok=True)
    mchid = "19" + "".join(secrets.choice(string.digits) for _ in range(8))
    account = SandboxAccount(
        directory=directory,
        mchid=mchid,
        appid="wx" + secrets.token_hex(8),
        merchant_serial=secrets.token_hex(20).upper(),
        platform_serial=f"PUB_KEY_ID_01{mchid}{secrets.randbelow(10**16):016d}",
        apiv3_key="".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32)),
    )
    merchant_key = merchant_key or new_key()
    platform_key = platform_key or new_key()
    _write_private(account.merchant_key_path, merchant_key)
    _write_public(account.merchant_public_key_path, merchant_key.public_key())
    _write_private(account.platform_key_path, platform_key)
    _write_public(account.platform_public_key_path, platform_key.public_key())
    fields = {k: v for k, v in asdict(account).items() if k != "directory"}
    saved.write_text(json.dumps(fields, indent=2))
    saved.chmod(0o600)
    return account
