"""RSA2 as Alipay's open platform uses it: SHA256withRSA (PKCS#1 v1.5), base64 signatures over
``k=v`` pairs sorted by name and joined by ``&``; the keys; and the exact text of an answer's
response node, which is what Alipay signs (not a re-serialisation of it)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_WS = " \t\n\r"
_DECODER = json.JSONDecoder()


def request_content(params: Mapping[str, str]) -> str:
    """What a request's signature covers: every parameter but ``sign`` that has a value."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v != "")


def notification_content(params: Mapping[str, str]) -> str:
    """What a notification's signature covers: every parameter but ``sign`` and ``sign_type``
    (empty ones included: Alipay's own check keeps them)."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in ("sign", "sign_type"))


def sign(content: str, key: rsa.RSAPrivateKey) -> str:
    signature = key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify(content: str, signature: str, key: rsa.RSAPublicKey) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def _der(text: bytes) -> bytes:
    # Alipay's key tool and console hand out keys as one line of base64, without PEM armour.
    return base64.b64decode(b"".join(text.split()), validate=True)


def load_private_key(data: bytes) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM (PKCS#1 or PKCS#8) or bare base64 DER; ValueError if not."""
    text = data.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            key = serialization.load_pem_private_key(text, password=None)
        else:
            key = serialization.load_der_private_key(_der(text), password=None)
    except UnsupportedAlgorithm as exc:
        raise ValueError(str(exc)) from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def load_public_key(data: bytes) -> rsa.RSAPublicKey:
    """An RSA public key from PEM or bare base64 DER; ValueError if not."""
    text = data.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(text)
        else:
            key = serialization.load_der_public_key(_der(text))
    except UnsupportedAlgorithm as exc:
        raise ValueError(str(exc)) from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def _skip(text: str, i: int) -> int:
    """The index of the first non-whitespace character at or after ``i``."""
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def json_members(text: str) -> dict[str, tuple[Any, str]]:
    """The members of a JSON object, each with its value and the value's exact text as sent.
    ValueError if ``text`` is not one JSON object or repeats a name."""
    i = _skip(text, 0)
    if text[i : i + 1] != "{":
        raise ValueError("not a JSON object")
    i = _skip(text, i + 1)
    members: dict[str, tuple[Any, str]] = {}
    if text[i : i + 1] == "}":
        i += 1
    else:
        while True:
            name, i = _DECODER.raw_decode(text, i)
            if not isinstance(name, str) or name in members:
                raise ValueError("bad or repeated member name")
            i = _skip(text, i)
            if text[i : i + 1] != ":":
                raise ValueError("':' expected")
            start = _skip(text, i + 1)
            value, end = _DECODER.raw_decode(text, start)
            members[name] = (value, text[start:end])
            i = _skip(text, end)
            if text[i : i + 1] == ",":
                i = _skip(text, i + 1)
                continue
            if text[i : i + 1] != "}":
                raise ValueError("',' or '}' expected")
            i += 1
            break
    if text[i:].strip(_WS):
        raise ValueError("text after the object")
    return members
