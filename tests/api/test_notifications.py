"""A shopper's in-app notifications: the list with its unread count, and the live stream."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.worker.relay import Relay
from tests.orders.scene import make_scene, pay, place


async def test_notifications_list_newest_first_and_mark_read(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    order = (await place(client, scene)).json()
    await pay(client, app, scene, order["id"])
    moved = await client.post(
        f"/api/v1/stores/{scene.store.id}/orders/{order['id']}/transitions",
        json={"to": "accepted"},
        headers=scene.clerk_headers,
    )
    assert moved.status_code == 200
    relay: Relay = app.state.relay
    await relay.drain()

    mine = await client.get("/api/v1/me/notifications", headers=scene.shopper_headers)
    assert mine.status_code == 200
    body = mine.json()
    assert [n["kind"] for n in body["items"]] == ["order.accepted", "order.paid"]
    assert body["items"][0]["data"]["order_id"] == order["id"]
    assert body["unread"] == 2

    read = await client.post("/api/v1/me/notifications/read", headers=scene.shopper_headers)
    assert read.status_code == 204
    after = (await client.get("/api/v1/me/notifications", headers=scene.shopper_headers)).json()
    assert after["unread"] == 0
    assert all(n["read_at"] for n in after["items"])
    # The clerk has none of the shopper's news.
    theirs = await client.get("/api/v1/me/notifications", headers=scene.clerk_headers)
    assert theirs.json() == {"items": [], "unread": 0}
    assert (await client.get("/api/v1/me/notifications")).status_code == 401


class AsgiStream:
    """Drives the app directly over ASGI: httpx's ASGI transport waits for a response's end,
    which an event stream never reaches until the client leaves."""

    def __init__(self, app: FastAPI, path: str, headers: dict[str, str]) -> None:
        self.sent: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
        self.gone = asyncio.Event()
        self._asked = False
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 5000),
            "server": ("test", 80),
        }
        self.task = asyncio.create_task(app(scope, self._receive, self._send))

    async def _receive(self) -> dict[str, Any]:
        if not self._asked:
            self._asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: MutableMapping[str, Any]) -> None:
        await self.sent.put(message)

    async def next(self) -> MutableMapping[str, Any]:
        return await asyncio.wait_for(self.sent.get(), 5)

    async def text(self) -> str:
        message = await self.next()
        assert message["type"] == "http.response.body"
        return bytes(message["body"]).decode()

    async def close(self) -> None:
        self.gone.set()
        await asyncio.wait_for(self.task, 5)


async def test_stream_sends_the_shoppers_order_news(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    order = (await place(client, scene)).json()
    stream = AsgiStream(app, "/api/v1/me/notifications/stream", scene.shopper_headers)
    try:
        start = await stream.next()
        assert start["status"] == 200
        assert dict(start["headers"])[b"content-type"].startswith(b"text/event-stream")
        assert await stream.text() == ": connected\n\n"
        await pay(client, app, scene, order["id"])
        frame = await stream.text()
        assert frame.startswith("event: order\ndata: ")
        assert f'"order_id":{order["id"]}' in frame
        assert '"status":"paid"' in frame
    finally:
        await stream.close()


async def test_stream_needs_a_login(app: FastAPI) -> None:
    stream = AsgiStream(app, "/api/v1/me/notifications/stream", {})
    start = await stream.next()
    assert start["status"] == 401
    await stream.close()
