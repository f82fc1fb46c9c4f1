"""WeChat Pay API v3's signatures and encryption, from its published rules.

- A request is signed by the merchant: RSA PKCS#1 v1.5 with SHA-256 (``SHA256withRSA``) over
  ``METHOD\\nURL\\ntimestamp\\nnonce\\nbody\\n`` (URL: the path with its query string, as sent),
  carried in ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",…``.
- A response or a notification is signed by WeChat Pay over ``timestamp\\nnonce\\nbody\\n``
  with its platform key; the merchant holds the public half, configured once (no fetch).
- A notification's ``resource`` is encrypted with AEAD_AES_256_GCM under the merchant's API
  v3 key (32 bytes), with the resource's ``nonce`` and ``associated_data``.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
AEAD = "AEAD_AES_256_GCM"


class DecryptError(ValueError):
    """The resource does not decrypt with our key: forged, altered, or not for us."""


def is_timestamp(text: str) -> bool:
    """Unix seconds as WeChat Pay writes them: ASCII digits, and not so many that ``int``
    would refuse them (a header is attacker-controlled until its signature checks out)."""
    return text.isascii() and text.isdigit() and len(text) <= 12


def request_message(method: str, url: str, timestamp: str, nonce: str, body: str) -> bytes:
    return f"{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n".encode()


def response_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    # The body is signed as received, byte for byte: never re-encode it.
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def sign(private_key: rsa.RSAPrivateKey, message: bytes) -> str:
    signature = private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def signature_ok(public_key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def authorization(
    *,
    mchid: str,
    serial: str,
    private_key: rsa.RSAPrivateKey,
    method: str,
    url: str,
    body: str,
    timestamp: str,
    nonce: str,
) -> str:
    signature = sign(private_key, request_message(method, url, timestamp, nonce, body))
    return (
        f'{SIGNATURE_TYPE} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial}"'
    )


def decrypt(key: bytes, *, nonce: str, associated_data: str, ciphertext: str) -> bytes:
    try:
        data = base64.b64decode(ciphertext, validate=True)
        return AESGCM(key).decrypt(nonce.encode(), data, associated_data.encode())
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise DecryptError("the resource does not decrypt") from exc


def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    """The merchant's API private key (``apiclient_key.pem``, PKCS#8 or PKCS#1 PEM)."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def load_public_key(path: Path) -> rsa.RSAPublicKey:
    """WeChat Pay's public key (``pub_key.pem``), or the public key of a platform certificate
    (``wechatpay_….pem``) for merchants still on certificates."""
    data = path.read_bytes()
    key = (
        x509.load_pem_x509_certificate(data).public_key()
        if b"-----BEGIN CERTIFICATE-----" in data
        else serialization.load_pem_public_key(data)
    )
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key
