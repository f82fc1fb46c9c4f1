"""Calls to Alipay's OpenAPI gateway: signed requests, verified answers.

A request is a form of the common parameters plus ``biz_content`` (the method's JSON), signed
with the application's key. The answer is ``{"<method>_response": {...}, "sign": "..."}``, the
signature over the node's exact text, checked with Alipay's public key. Any failure raises a
``ProviderError``; the caller records what it means (a failed attempt, a refund to ask again).
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from o2o.core.clock import utcnow
from o2o.payments.alipay import signing
from o2o.payments.alipay.codec import beijing
from o2o.payments.alipay.config import AlipayConfig
from o2o.payments.exceptions import ProviderAnswerInvalid, ProviderRefused, ProviderUnavailable

log = logging.getLogger("o2o.payments.alipay")
SUCCESS = "10000"
# Alipay's own failure (20000, "Service Currently Unavailable", or these sub_codes): the call
# may or may not have been carried out, so it is no answer, not a refusal.
UNKNOWN_OUTCOME = "20000"
SYSTEM_ERRORS = frozenset({"ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR", "isp.unknow-error"})
MAX_ANSWER = 256 * 1024  # answers are a few hundred bytes; a bill file is downloaded apart
MAX_BILL = 20 * 1024 * 1024


class _Borrowed(httpx.AsyncBaseTransport):
    """A transport passed in (tests, the in-process sandbox) belongs to its owner: a client
    closing must not close it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)


class Gateway:
    def __init__(
        self,
        config: AlipayConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._config = config
        self._transport = _Borrowed(transport) if transport is not None else None
        self._timeout = timeout
        # One TLS context for every call: building one per client costs more than the call.
        self._tls = ssl.create_default_context() if transport is None else None

    def _client(self) -> httpx.AsyncClient:
        if self._tls is not None:
            return httpx.AsyncClient(timeout=self._timeout, verify=self._tls)
        return httpx.AsyncClient(transport=self._transport, timeout=self._timeout)

    def signed_params(
        self, method: str, biz: Mapping[str, object], *, notify: bool
    ) -> dict[str, str]:
        config = self._config
        params = {
            "app_id": config.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": beijing(utcnow()),
            "version": "1.0",
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
        }
        if notify:
            params["notify_url"] = config.notify_url
        params["sign"] = signing.sign(signing.request_content(params), config.private_key)
        return params

    async def call(
        self, method: str, biz: Mapping[str, object], *, notify: bool = False
    ) -> dict[str, Any]:
        """The verified response node of a successful call (code 10000)."""
        body = urlencode(self.signed_params(method, biz, notify=notify)).encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}
        try:
            async with self._client() as client:
                response = await client.post(self._config.gateway, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("alipay %s: %s", method, exc)
            raise ProviderUnavailable(
                f"Alipay could not be reached ({type(exc).__name__}). Try again in a moment."
            ) from exc
        if response.status_code != 200:
            raise ProviderUnavailable(
                f"Alipay answered HTTP {response.status_code}. Try again in a moment."
            )
        return answer_node(method, response.content, self._config)

    async def download(self, url: str) -> bytes:
        """A file Alipay points to (a bill), which is not signed: its address came signed."""
        try:
            async with self._client() as client, client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ProviderUnavailable(
                        f"Alipay's bill answered HTTP {response.status_code}."
                    )
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_BILL:
                        raise ProviderAnswerInvalid("Alipay's bill file is too large.")
                return bytes(data)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                f"Alipay's bill could not be downloaded ({type(exc).__name__})."
            ) from exc


def answer_node(method: str, content: bytes, config: AlipayConfig) -> dict[str, Any]:
    """The response node of an answer, its signature checked; raises ``ProviderRefused`` for a
    failure code and ``ProviderAnswerInvalid`` for anything that is not Alipay's answer."""
    if len(content) > MAX_ANSWER:
        raise ProviderAnswerInvalid("Alipay's answer is too large.")
    try:
        members = signing.json_members(content.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ProviderAnswerInvalid("Alipay's answer is not JSON.") from exc
    entry = members.get(method.replace(".", "_") + "_response") or members.get("error_response")
    if entry is None or not isinstance(entry[0], dict):
        raise ProviderAnswerInvalid(f"Alipay's answer to {method} has no response node.")
    node: dict[str, Any] = entry[0]
    code = str(node.get("code", ""))
    signature = members.get("sign", (None, ""))[0]
    if signature is not None:
        if not isinstance(signature, str) or not signing.verify(
            entry[1], signature, config.alipay_public_key
        ):
            log.error("alipay %s: the answer's signature does not verify", method)
            raise ProviderAnswerInvalid(
                f"Alipay's answer to {method} is not signed by Alipay's key: check "
                "O2O_ALIPAY_PUBLIC_KEY_PATH (and that nothing rewrites the traffic)."
            )
    elif code == SUCCESS:
        # Alipay signs every success; an unsigned one cannot be trusted. (Gateway-level
        # failures may come unsigned; believing one only makes a call fail.)
        raise ProviderAnswerInvalid(f"Alipay's answer to {method} is not signed.")
    if code != SUCCESS:
        sub_code = str(node.get("sub_code", ""))
        message = str(node.get("sub_msg") or node.get("msg") or "no message")
        if code == UNKNOWN_OUTCOME or sub_code in SYSTEM_ERRORS:
            log.warning("alipay %s: system error %s %s", method, code, sub_code)
            raise ProviderUnavailable(
                f"Alipay failed on {method}: {message} ({sub_code or code}). Try again in a "
                "moment.",
                provider_code=code,
                sub_code=sub_code or None,
            )
        raise ProviderRefused(
            f"Alipay refused {method}: {message} ({sub_code or code}).",
            provider_code=code,
            sub_code=sub_code or None,
        )
    return node
