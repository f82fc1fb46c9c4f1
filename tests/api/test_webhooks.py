"""Merchants' webhooks: signed deliveries per order event, retries, and the attempt log.

The receiver is an httpx transport handed to the app (and so to the relay) through
``create_app``; nothing is patched. Retries are made due by moving the outbox's clock
forward (``available_at``), as the back-off would after a while.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from o2o.bootstrap import create_app
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.core.outbox_models import OutboxMessage
from o2o.core.settings import Settings
from o2o.worker.relay import Relay
from tests.factories import make_staff
from tests.orders.scene import OrderScene, make_scene, pay, place

HOOK_URL = "https://hooks.merchant.example/o2o"


@dataclass
class Receiver:
    """A merchant's endpoint: answers ``fail_first`` times with 500, then 200."""

    fail_first: int = 0
    secret: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        body = request.read()
        stamp, v1 = (part.split("=", 1)[1] for part in request.headers["O2O-Signature"].split(","))
        expected = hmac.new(
            self.secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(v1, expected), "signature does not verify"
        event = json.loads(body)
        assert request.headers["O2O-Event-Id"] == event["id"]
        assert set(event) == {"id", "type", "created_at", "data"}
        if self.calls <= self.fail_first:
            return httpx.Response(500, text="try later")
        self.seen.append(event)
        return httpx.Response(204)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def app(settings: Settings, database: Database, receiver: Receiver) -> FastAPI:
    # Also the fixture `client` uses: this module's app delivers webhooks to `receiver`.
    hooked = settings.model_copy(update={"webhooks_allow_private": True})
    return create_app(
        hooked, database=database, webhook_transport=httpx.MockTransport(receiver.handle)
    )


@dataclass
class HookScene:
    orders: OrderScene
    owner_headers: dict[str, str]
    base: str


@pytest.fixture
async def scene(session: AsyncSession) -> HookScene:
    orders = await make_scene(session)
    _owner, headers = await make_staff(session, merchant=orders.merchant, role=MemberRole.OWNER)
    await session.commit()
    return HookScene(orders, headers, f"/api/v1/merchants/{orders.merchant.id}/webhooks")


async def register(
    client: httpx.AsyncClient, scene: HookScene, receiver: Receiver, **body: Any
) -> dict[str, Any]:
    created = await client.post(
        scene.base, json={"url": HOOK_URL, **body}, headers=scene.owner_headers
    )
    assert created.status_code == 201, created.text
    hook: dict[str, Any] = created.json()
    assert hook["secret"].startswith("whsec_")
    receiver.secret = hook["secret"]
    return hook


async def make_due(session: AsyncSession) -> None:
    """Time passes: every waiting retry is due now."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.processed_at.is_(None))
        .values(available_at=utcnow())
    )
    await session.commit()


async def test_each_order_event_reaches_the_endpoint_once_signed(
    client: httpx.AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    scene: HookScene,
    receiver: Receiver,
) -> None:
    hook = await register(client, scene, receiver)
    listed = await client.get(scene.base, headers=scene.owner_headers)
    assert [h["id"] for h in listed.json()] == [hook["id"]]
    assert "secret" not in listed.json()[0]  # shown once, at creation

    order = (await place(client, scene.orders)).json()
    await pay(client, app, scene.orders, order["id"])
    staff = scene.orders.clerk_headers
    for to in ("accepted", "preparing", "ready"):
        moved = await client.post(
            f"/api/v1/stores/{scene.orders.store.id}/orders/{order['id']}/transitions",
            json={"to": to},
            headers=staff,
        )
        assert moved.status_code == 200, moved.text
    relay: Relay = app.state.relay
    await relay.drain()
    await relay.drain()  # nothing is sent twice

    assert [(e["type"], e["data"]["status"]) for e in receiver.seen] == [
        ("order.placed", "placed"),
        ("order.status_changed", "paid"),
        ("order.status_changed", "accepted"),
        ("order.status_changed", "preparing"),
        ("order.status_changed", "ready"),
    ]
    assert {e["data"]["order_id"] for e in receiver.seen} == {order["id"]}
    assert len({e["id"] for e in receiver.seen}) == 5
    log = await client.get(f"{scene.base}/{hook['id']}/deliveries", headers=scene.owner_headers)
    assert [d["outcome"] for d in log.json()] == ["succeeded"] * 5
    assert all(d["status_code"] == 204 and d["attempt"] == 1 for d in log.json())


async def test_only_subscribed_events_are_sent(
    client: httpx.AsyncClient,
    app: FastAPI,
    scene: HookScene,
    receiver: Receiver,
) -> None:
    await register(client, scene, receiver, events=["order.placed"])
    order = (await place(client, scene.orders)).json()
    await pay(client, app, scene.orders, order["id"])
    assert [e["type"] for e in receiver.seen] == ["order.placed"]


async def test_a_failing_endpoint_is_retried_and_every_attempt_recorded(
    client: httpx.AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    scene: HookScene,
    receiver: Receiver,
) -> None:
    receiver.fail_first = 2
    hook = await register(client, scene, receiver)
    pinged = await client.post(f"{scene.base}/{hook['id']}/test", headers=scene.owner_headers)
    assert pinged.status_code == 202, pinged.text
    relay: Relay = app.state.relay
    await relay.drain()
    assert receiver.calls == 1  # the retry waits for its back-off
    for _ in range(3):
        await make_due(session)
        await relay.drain()

    assert receiver.calls == 3
    assert [e["id"] for e in receiver.seen] == [pinged.json()["event_id"]]
    assert receiver.seen[0]["type"] == "ping"
    log = (
        await client.get(f"{scene.base}/{hook['id']}/deliveries", headers=scene.owner_headers)
    ).json()
    assert [(d["attempt"], d["outcome"], d["status_code"]) for d in log] == [
        (3, "succeeded", 204),
        (2, "retrying", 500),
        (1, "retrying", 500),
    ]
    assert log[1]["error"] == "answered HTTP 500"


async def test_an_endpoint_that_never_answers_well_is_given_up(
    client: httpx.AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    scene: HookScene,
    receiver: Receiver,
) -> None:
    receiver.fail_first = 1000
    hook = await register(client, scene, receiver)
    await client.post(f"{scene.base}/{hook['id']}/test", headers=scene.owner_headers)
    relay: Relay = app.state.relay
    for _ in range(15):
        await make_due(session)
        await relay.drain()
    log = (
        await client.get(f"{scene.base}/{hook['id']}/deliveries", headers=scene.owner_headers)
    ).json()
    assert len(log) == receiver.calls == 12
    assert log[0]["outcome"] == "failed"
    assert {d["outcome"] for d in log[1:]} == {"retrying"}


async def test_a_removed_endpoint_hears_nothing_more(
    client: httpx.AsyncClient,
    app: FastAPI,
    scene: HookScene,
    receiver: Receiver,
) -> None:
    hook = await register(client, scene, receiver)
    await place(client, scene.orders)
    gone = await client.delete(f"{scene.base}/{hook['id']}", headers=scene.owner_headers)
    assert gone.status_code == 204
    relay: Relay = app.state.relay
    await relay.drain()
    assert receiver.calls == 0
    assert (await client.get(scene.base, headers=scene.owner_headers)).json() == []
    again = await client.delete(f"{scene.base}/{hook['id']}", headers=scene.owner_headers)
    assert again.status_code == 404
    assert again.json()["code"] == "webhook_not_found"
