"""The simulator's side of WeChat Pay's API v3 security, written from the public rules.

WeChat Pay checks each merchant request's ``Authorization: WECHATPAY2-SHA256-RSA2048 …``
(SHA256withRSA over method, path with query, timestamp, nonce and body, each followed by a
newline) against the merchant's registered certificate, and signs every answer and
notification with its platform key over timestamp, nonce and body. Notifications carry the
transaction encrypted with AES-256-GCM under the merchant's API v3 key.
"""

from __future__ import annotations

import base64
import re
import secrets
import string
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SCHEME = "WECHATPAY2-SHA256-RSA2048"
_PARAM = re.compile(r'(\w+)="([^"]*)"')
_ALPHABET = string.ascii_letters + string.digits


def nonce_str(length: int = 32) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class Credentials:
    """What a merchant put in its ``Authorization`` header."""

    mchid: str
    serial_no: str
    timestamp: str
    nonce_str: str
    signature: str


def parse_authorization(header: str) -> Credentials | None:
    scheme, _, rest = header.partition(" ")
    if scheme != SCHEME:
        return None
    params = dict(_PARAM.findall(rest))
    try:
        return Credentials(
            params["mchid"],
            params["serial_no"],
            params["timestamp"],
            params["nonce_str"],
            params["signature"],
        )
    except KeyError:
        return None


def merchant_signed(
    key: rsa.RSAPublicKey, creds: Credentials, method: str, url: str, body: bytes
) -> bool:
    message = "\n".join([method, url, creds.timestamp, creds.nonce_str, ""]).encode()
    message += body + b"\n"
    try:
        key.verify(base64.b64decode(creds.signature), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def platform_signature(key: rsa.RSAPrivateKey, timestamp: str, nonce: str, body: bytes) -> str:
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def seal(apiv3_key: bytes, plaintext: bytes, associated_data: str) -> tuple[str, str]:
    """(nonce, base64 ciphertext with its 16-byte tag) as a notification's resource holds."""
    nonce = nonce_str(12)
    sealed = AESGCM(apiv3_key).encrypt(nonce.encode(), plaintext, associated_data.encode())
    return nonce, base64.b64encode(sealed).decode()
