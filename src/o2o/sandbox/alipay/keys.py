"""The sandbox's RSA keys and RSA2 signatures (SHA256withRSA, PKCS#1 v1.5, base64).

Alipay signs the parameters sorted by name as ``name=value`` joined by ``&``: a request
without ``sign`` and its empty parameters, a notification without ``sign`` and ``sign_type``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# What Alipay's sandbox console shows: the merchant's application, Alipay's key pair.
APP_PRIVATE, APP_PUBLIC = "app_private_key.pem", "app_public_key.pem"
ALIPAY_PRIVATE, ALIPAY_PUBLIC = "alipay_private_key.pem", "alipay_public_key.pem"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def read_private(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA private key")
    return key


def read_public(path: Path) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"{path} is not an RSA public key")
    return key


def string_to_sign(params: Mapping[str, str], *, skip: Collection[str], drop_empty: bool) -> str:
    pairs = []
    for name in sorted(params):
        value = params[name]
        if name in skip or (drop_empty and value == ""):
            continue
        pairs.append(f"{name}={value}")
    return "&".join(pairs)


def rsa2_sign(key: rsa.RSAPrivateKey, text: str) -> str:
    raw = key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode("ascii")


def rsa2_verify(key: rsa.RSAPublicKey, text: str, signature: str) -> bool:
    try:
        key.verify(
            base64.b64decode(signature, validate=True),
            text.encode("utf-8"),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True)
class KeyFiles:
    """The four PEM files of a sandbox directory."""

    app_private: Path
    app_public: Path
    alipay_private: Path
    alipay_public: Path

    @classmethod
    def in_dir(cls, directory: Path) -> KeyFiles:
        return cls(
            directory / APP_PRIVATE,
            directory / APP_PUBLIC,
            directory / ALIPAY_PRIVATE,
            directory / ALIPAY_PUBLIC,
        )


def ensure_keys(directory: Path) -> KeyFiles:
    """Key pairs for the merchant's application and for the sandbox's Alipay, made once: as in
    Alipay's sandbox console, the merchant keeps the first private key and uploads its public
    key; Alipay keeps the second and shows its public key."""
    directory.mkdir(parents=True, exist_ok=True)
    files = KeyFiles.in_dir(directory)
    for private, public in (
        (files.app_private, files.app_public),
        (files.alipay_private, files.alipay_public),
    ):
        if not (private.exists() and public.exists()):
            key = new_key()
            private.write_bytes(private_pem(key))
            private.chmod(0o600)
            public.write_bytes(public_pem(key.public_key()))
    return files


# Where a platform keeps the sandbox's keys, under its data directory.
SANDBOX_DIR = "alipay-sandbox"


def sandbox_settings(data_dir: Path, *, app_id: str) -> dict[str, object]:
    """The platform settings that point Alipay at the sandbox, keys made if missing: what the
    sandbox console tells a merchant to configure."""
    files = ensure_keys(data_dir / SANDBOX_DIR)
    return {
        "alipay_sandbox": True,
        "alipay_app_id": app_id,
        "alipay_private_key_path": files.app_private,
        "alipay_public_key_path": files.alipay_public,
    }
