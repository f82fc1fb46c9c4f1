"""Merchants' webhooks: endpoints, signed deliveries, retries, and the record of attempts.

An order event becomes one outbox message per subscribed endpoint (``fan_out``), so a slow or
broken endpoint retries on its own schedule and never delays another. Each delivery POSTs
``{id, type, created_at, data}`` signed with the endpoint's secret (``signature_header``); a 2xx
answer within ``TIMEOUT_S`` is success, anything else is retried with the outbox's back-off
until ``max_attempts``. Every attempt is recorded, the failed ones too, so a merchant can see
why their endpoint did not hear about an order.

Delivery is at least once: receivers deduplicate on the ``O2O-Event-Id`` header.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.core.errors import Conflict, InvalidInput, NotFound
from o2o.core.outbox import emit
from o2o.notifications.webhook_models import WebhookDelivery, WebhookEndpoint

DELIVER_TOPIC = "webhook.deliver"
ORDER_PLACED = "order.placed"
ORDER_STATUS_CHANGED = "order.status_changed"
PING = "ping"
EVENT_TYPES = (ORDER_PLACED, ORDER_STATUS_CHANGED)
SIGNATURE_HEADER = "O2O-Signature"
EVENT_ID_HEADER = "O2O-Event-Id"
# The whole attempt (connect, send, answer) must fit in this; a slow receiver is a failure.
TIMEOUT_S = 5.0
MAX_ENDPOINTS_PER_MERCHANT = 10
# Names that always mean "this machine or its network", whatever DNS says.
_LOCAL_NAMES = ("localhost", "localhost.localdomain")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


class WebhookNotFound(NotFound):
    code = "webhook_not_found"


class WebhookUrlRefused(InvalidInput):
    code = "webhook_url_refused"
    title = "This webhook URL is not allowed"


class WebhookEventUnknown(InvalidInput):
    code = "webhook_event_unknown"
    title = "Unknown webhook event"


class TooManyWebhooks(Conflict):
    code = "too_many_webhooks"


class DeliveryFailed(Exception):
    """The endpoint did not take the event; the relay retries the message later."""


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# --- URLs -------------------------------------------------------------------------------------


def _address_refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_url(url: str, *, allow_private: bool) -> str:
    """Refuse URLs the platform must not call; return the URL stripped.

    Why: the platform POSTs to these URLs from inside its own network. Without this check a
    merchant could point a webhook at ``http://127.0.0.1:6379``, a cloud metadata service
    (``169.254.169.254``) or an internal admin page, and use the delivery log (status codes,
    errors, timings) to probe or poke systems only the platform can reach: server-side request
    forgery (SSRF). So only http(s) is allowed, without credentials in the URL, and hosts that
    are, or obviously name, loopback, private, link-local or reserved addresses are refused.
    Host names are resolved again at each delivery (``check_resolved``), since DNS can change
    after registration. ``allow_private`` (``O2O_WEBHOOKS_ALLOW_PRIVATE``) lifts the address
    rules for the demo and tests, where receivers run on this machine.
    """
    url = url.strip()
    if len(url) > 2000:
        raise WebhookUrlRefused("The URL is longer than 2000 characters.", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlRefused(f"The URL cannot be read: {exc}.", field="url") from exc
    if parts.scheme not in ("http", "https"):
        raise WebhookUrlRefused("Webhook URLs must start with http:// or https://.", field="url")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise WebhookUrlRefused("The URL has no host.", field="url")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused("Put no user name or password in the URL.", field="url")
    if port == 0:
        raise WebhookUrlRefused("The URL's port is not valid.", field="url")
    if allow_private:
        return url
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        if _address_refused(ip):
            raise WebhookUrlRefused(
                "Private, loopback and reserved addresses cannot receive webhooks.", field="url"
            )
        return url
    last_label = host.rsplit(".", 1)[-1]
    # Resolvers read "2130706433", "127.1" or "0x7f.1" as addresses; no real TLD looks so.
    if last_label.isdigit() or last_label.startswith("0x") or "." not in host:
        raise WebhookUrlRefused("Use a public host name or address.", field="url")
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
        raise WebhookUrlRefused("Local host names cannot receive webhooks.", field="url")
    return url


async def check_resolved(url: str, *, allow_private: bool) -> None:
    """At delivery time, refuse a host whose DNS answer now points at a private address.

    This narrows, but cannot close, DNS rebinding between this look-up and the connection;
    production deployments should also send webhooks through an egress proxy that enforces
    the same rule.
    """
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port)
    for info in infos:
        if _address_refused(ipaddress.ip_address(info[4][0])):
            raise WebhookUrlRefused(f"{host} resolves to a private or reserved address.")


# --- Endpoints --------------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        raise WebhookEventUnknown(
            f"Subscribe to one or more of {', '.join(EVENT_TYPES)}"
            + (f"; unknown: {', '.join(unknown)}." if unknown else "."),
            field="events",
        )
    return sorted(set(events))


async def create_endpoint(
    session: AsyncSession,
    *,
    merchant_id: int,
    url: str,
    events: list[str],
    description: str = "",
    active: bool = True,
    allow_private: bool,
) -> WebhookEndpoint:
    """Register an endpoint with a fresh secret (the caller shows it to the merchant once)."""
    url = check_url(url, allow_private=allow_private)
    events = check_events(events)
    count = await session.scalar(
        select(func.count())
        .select_from(WebhookEndpoint)
        .where(WebhookEndpoint.merchant_id == merchant_id)
    )
    if (count or 0) >= MAX_ENDPOINTS_PER_MERCHANT:
        raise TooManyWebhooks(
            f"A merchant has at most {MAX_ENDPOINTS_PER_MERCHANT} webhook endpoints."
        )
    endpoint = WebhookEndpoint(
        merchant_id=merchant_id,
        url=url,
        secret=new_secret(),
        events=events,
        description=description,
        active=active,
        created_at=utcnow(),
    )
    session.add(endpoint)
    await session.flush()
    return endpoint


async def list_endpoints(session: AsyncSession, *, merchant_id: int) -> list[WebhookEndpoint]:
    return list(
        await session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.merchant_id == merchant_id)
            .order_by(WebhookEndpoint.id)
        )
    )


async def get_endpoint(
    session: AsyncSession, *, merchant_id: int, endpoint_id: int
) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.merchant_id != merchant_id:
        raise WebhookNotFound(f"Webhook {endpoint_id} not found.")
    return endpoint


async def delete_endpoint(session: AsyncSession, *, merchant_id: int, endpoint_id: int) -> None:
    """Remove the endpoint and its delivery log; queued deliveries to it are then skipped."""
    endpoint = await get_endpoint(session, merchant_id=merchant_id, endpoint_id=endpoint_id)
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    await session.delete(endpoint)
    await session.flush()


async def recent_deliveries(
    session: AsyncSession, *, endpoint_id: int, limit: int = 50
) -> list[WebhookDelivery]:
    return list(
        await session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


# --- Events -----------------------------------------------------------------------------------


def envelope(event_id: str, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event_type,
        "created_at": utcnow().isoformat(),
        "data": data,
    }


async def fan_out(
    session: AsyncSession, *, merchant_id: int, event_type: str, event_id: str, data: dict[str, Any]
) -> int:
    """Queue the event for each of the merchant's active endpoints subscribed to its type,
    one outbox message each, in the caller's transaction. How many were queued."""
    endpoints = await session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.merchant_id == merchant_id, WebhookEndpoint.active.is_(True)
        )
    )
    event = envelope(event_id, event_type, data)
    queued = 0
    for endpoint in endpoints:
        if event_type in endpoint.events:
            emit(session, DELIVER_TOPIC, {"endpoint_id": endpoint.id, "event": event})
            queued += 1
    return queued


def queue_ping(session: AsyncSession, endpoint: WebhookEndpoint) -> str:
    """Queue a ``ping`` event to one endpoint (sent even while it is inactive); its id."""
    event_id = f"evt_ping_{uuid.uuid4().hex}"
    event = envelope(event_id, PING, {"endpoint_id": endpoint.id})
    emit(session, DELIVER_TOPIC, {"endpoint_id": endpoint.id, "event": event, "force": True})
    return event_id


# --- Signing and sending ----------------------------------------------------------------------


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under the endpoint's secret."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex>``: the timestamp is signed too, so receivers can refuse
    replays of an old delivery."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


async def send(
    transport: httpx.AsyncBaseTransport | None, url: str, secret: str, event: dict[str, Any]
) -> SendResult:
    """POST the signed event once. Redirects are not followed (they could lead to a private
    address) and the answer's body is never read."""
    body = encode(event)
    timestamp = int(utcnow().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "O2O-Webhooks/1",
        SIGNATURE_HEADER: signature_header(secret, timestamp, body),
        EVENT_ID_HEADER: str(event["id"]),
    }
    started = time.perf_counter()
    status: int | None = None
    error = ""
    try:
        async with (
            asyncio.timeout(TIMEOUT_S),
            httpx.AsyncClient(
                transport=transport, timeout=TIMEOUT_S, follow_redirects=False
            ) as client,
            client.stream("POST", url, content=body, headers=headers) as response,
        ):
            status = response.status_code
    except TimeoutError:
        error = f"no answer within {TIMEOUT_S:g} s"
    except httpx.TimeoutException:
        error = f"no answer within {TIMEOUT_S:g} s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration_ms = int((time.perf_counter() - started) * 1000)
    if status is not None and not 200 <= status < 300:
        error = f"answered HTTP {status}"
    return SendResult(status, error, duration_ms)


async def deliver(
    session: AsyncSession,
    payload: dict[str, Any],
    *,
    transport: httpx.AsyncBaseTransport | None,
    allow_private: bool,
    max_attempts: int,
) -> None:
    """Handle one ``webhook.deliver`` message: one attempt, recorded; raise to be retried.

    The attempt is committed before raising, unlike the relay's usual one transaction per
    message, because a failed attempt must stay in the log while the message is retried. The
    session's transaction is also ended before the HTTP call so no connection or lock is held
    while a receiver takes its time. A repeat of an event already delivered is skipped.
    """
    event: dict[str, Any] = payload["event"]
    event_id = str(event["id"])
    endpoint = await session.get(WebhookEndpoint, int(payload["endpoint_id"]))
    if endpoint is None or not (endpoint.active or payload.get("force")):
        return
    succeeded = await session.scalar(
        select(WebhookDelivery.id).where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.event_id == event_id,
            WebhookDelivery.outcome == "succeeded",
        )
    )
    if succeeded is not None:
        return
    made = await session.scalar(
        select(func.count())
        .select_from(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.event_id == event_id)
    )
    attempt = (made or 0) + 1
    endpoint_id, url, secret = endpoint.id, endpoint.url, endpoint.secret
    await session.commit()

    try:
        await check_resolved(url, allow_private=allow_private)
    except (OSError, WebhookUrlRefused) as exc:
        result = SendResult(None, str(exc)[:500] or type(exc).__name__, 0)
    else:
        result = await send(transport, url, secret, event)
    last = result.ok or attempt >= max_attempts
    session.add(
        WebhookDelivery(
            endpoint_id=endpoint_id,
            event_id=event_id,
            event_type=str(event["type"]),
            attempt=attempt,
            outcome="succeeded" if result.ok else ("failed" if last else "retrying"),
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
            at=utcnow(),
        )
    )
    await session.commit()
    if not last:
        raise DeliveryFailed(f"webhook {endpoint_id} attempt {attempt}: {result.error}")
