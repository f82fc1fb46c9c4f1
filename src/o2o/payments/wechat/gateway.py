"""Signed calls to WeChat Pay's API v3 and verified answers.

Every request carries the merchant's signature; every answer must carry WeChat Pay's
(``Wechatpay-Timestamp/Nonce/Signature/Serial``), made with the platform key configured here,
and be fresh. An answer that cannot be trusted is treated like no answer at all.
"""

from __future__ import annotations

import json
import logging
import secrets
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from o2o.payments.exceptions import ProviderAnswerInvalid, ProviderRefused, ProviderUnavailable
from o2o.payments.wechat import crypto
from o2o.payments.wechat.config import WechatConfig

log = logging.getLogger("o2o.payments.wechat")
TOLERANCE_SECONDS = 300
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Answer:
    status: int
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return str(self.data.get("code", ""))

    @property
    def message(self) -> str:
        return str(self.data.get("message", ""))


def _unavailable(detail: str, reason: str) -> ProviderUnavailable:
    log.warning("WeChat Pay: %s (%s)", detail, reason)
    return ProviderUnavailable(detail, provider="wechat", reason=reason)


def _untrusted(detail: str, reason: str) -> ProviderAnswerInvalid:
    log.error("WeChat Pay: %s (%s)", detail, reason)
    return ProviderAnswerInvalid(detail, provider="wechat", reason=reason)


class Gateway:
    def __init__(
        self,
        config: WechatConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._transport = transport
        self._clock = clock
        self._ssl: ssl.SSLContext | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._transport is not None:
            return httpx.AsyncClient(transport=self._transport, timeout=TIMEOUT_SECONDS)
        if self._ssl is None:  # built once: loading the CA bundle costs milliseconds
            self._ssl = ssl.create_default_context()
        return httpx.AsyncClient(verify=self._ssl, timeout=TIMEOUT_SECONDS)

    def _signed(self, client: httpx.AsyncClient, method: str, url: str, body: str) -> httpx.Request:
        headers = {"Accept": "application/json", "User-Agent": "o2o-wechatpay"}
        if body:
            headers["Content-Type"] = "application/json"
        request = client.build_request(method, url, content=body.encode(), headers=headers)
        # Sign the path and query exactly as they go on the wire (after httpx's encoding).
        request.headers["Authorization"] = crypto.authorization(
            mchid=self._config.mchid,
            serial=self._config.merchant_serial,
            private_key=self._config.private_key,
            method=method,
            url=request.url.raw_path.decode("ascii"),
            body=body,
            timestamp=str(int(self._clock())),
            nonce=secrets.token_hex(16).upper(),
        )
        return request

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Answer:
        """A signed call; the verified answer (any status below 500 but 401). Raises
        ``ProviderUnavailable`` for the network and 5xx/429, ``ProviderAnswerInvalid`` for an
        answer that does not verify, ``ProviderRefused`` when our signature is refused."""
        url = self._config.api_base + path + (f"?{urlencode(query)}" if query else "")
        text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        try:
            async with self._client() as client:
                response = await client.send(self._signed(client, method, url, text))
                raw = await response.aread()
        except httpx.HTTPError as exc:
            raise _unavailable(
                f"WeChat Pay cannot be reached ({type(exc).__name__}).", "network"
            ) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise _unavailable(f"WeChat Pay answered {response.status_code}.", "server_error")
        # WeChat Pay signs every answer to a request whose signature it accepted; an error
        # answer may come unsigned (a refused signature, a gateway in front). Such an answer
        # is only ever believed as a failure, as the official SDKs do; a success never.
        if response.is_success or "wechatpay-signature" in response.headers:
            self._check_signature(response.headers, raw)
        data: Any = {}
        if raw:
            try:
                data = json.loads(raw)
            except ValueError:
                data = None
        if not isinstance(data, dict):
            raise _untrusted("WeChat Pay's answer is not a JSON object.", "malformed_response")
        answer = Answer(response.status_code, data)
        if answer.status == 401:
            # Our own signature was refused: the merchant key or its serial is wrong.
            log.error("WeChat Pay refused our signature: %s %s", answer.code, answer.message)
            raise ProviderRefused(
                "WeChat Pay refused the merchant's signature; check the merchant key and serial.",
                provider="wechat",
                provider_code=answer.code or None,
            )
        return answer

    def _check_signature(self, headers: httpx.Headers, raw: bytes) -> None:
        serial = headers.get("wechatpay-serial", "")
        timestamp = headers.get("wechatpay-timestamp", "")
        nonce = headers.get("wechatpay-nonce", "")
        signature = headers.get("wechatpay-signature", "")
        if not (serial and timestamp and nonce and signature):
            raise _untrusted("WeChat Pay's answer is not signed.", "unsigned_response")
        if serial != self._config.platform_serial:
            raise _untrusted(
                f"WeChat Pay signed with key {serial!r}, not the configured "
                f"{self._config.platform_serial!r}; configure its public key.",
                "unknown_serial",
            )
        if (
            not crypto.is_timestamp(timestamp)
            or abs(self._clock() - int(timestamp)) > TOLERANCE_SECONDS
        ):
            raise _untrusted("WeChat Pay's answer is stale.", "stale_response")
        message = crypto.response_message(timestamp, nonce, raw)
        if not crypto.signature_ok(self._config.platform_public_key, message, signature):
            raise _untrusted("WeChat Pay's answer has a bad signature.", "bad_signature")

    async def download(self, url: str) -> bytes:
        """A file WeChat Pay handed out (a bill): signed request, unsigned answer (the caller
        checks the digest it was given). Only ever on WeChat Pay's own host: the request
        carries the merchant's signature."""
        if urlsplit(url)[:2] != urlsplit(self._config.api_base)[:2]:
            raise _untrusted("WeChat Pay gave a download address on another host.", "foreign_url")
        try:
            async with self._client() as client:
                response = await client.send(self._signed(client, "GET", url, ""))
                raw = await response.aread()
        except httpx.HTTPError as exc:
            raise _unavailable(
                f"WeChat Pay cannot be reached ({type(exc).__name__}).", "network"
            ) from exc
        if response.status_code != 200:
            raise _unavailable(
                f"The bill download answered {response.status_code}.", "server_error"
            )
        return raw
