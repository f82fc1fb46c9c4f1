"""The header bell: shown to logged-in shoppers, its unread count, and its live stream."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import User
from o2o.core.broker import Broker
from o2o.notifications import service as notifications_service
from tests.api.test_notifications import AsgiStream
from tests.web.conftest import World, csrf_of, log_in


async def test_bell_counts_unread_news_and_marks_it_read(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    assert 'id="bell"' not in (await client.get("/orders")).text  # visitors have no bell
    assert (await client.get("/me/notifications/unread")).json() == {"unread": 0}
    user_id = await session.scalar(select(User.id).where(User.email == world.owner_email))
    assert user_id is not None
    await notifications_service.notify(
        session, user_id=user_id, kind="order.ready", data={"order_id": 7}, source="test:7"
    )
    await session.commit()
    await log_in(client, world.owner_email)

    page = await client.get("/orders?lang=zh_CN")
    assert 'id="bell"' in page.text
    # The toast's text, for the script to fill in (JSON escapes non-ASCII).
    assert json.dumps("您的订单 #%(id)s 已可取货")[1:-1] in page.text
    assert (await client.get("/me/notifications/unread")).json() == {"unread": 1}
    forged = await client.post("/me/notifications/read")
    assert forged.status_code == 403
    read = await client.post(
        "/me/notifications/read", headers={"X-CSRF-Token": csrf_of((await client.get("/me")).text)}
    )
    assert read.status_code == 204
    assert (await client.get("/me/notifications/unread")).json() == {"unread": 0}


async def test_bell_stream_carries_the_viewers_order_news(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, world: World
) -> None:
    visitor = await client.get("/me/notifications/stream")
    assert visitor.status_code == 204  # an EventSource stops retrying
    await log_in(client, world.owner_email)
    user_id = await session.scalar(select(User.id).where(User.email == world.owner_email))
    assert user_id is not None
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    stream = AsgiStream(app, "/me/notifications/stream", {"Cookie": cookie})
    try:
        assert (await stream.next())["status"] == 200
        assert await stream.text() == ": connected\n\n"
        broker: Broker = app.state.broker
        await broker.publish(
            notifications_service.channel(user_id),
            {"type": "order", "order_id": 7, "status": "ready", "fulfilment": "pickup"},
        )
        frame = await stream.text()
        assert frame.startswith("event: order\n")
        assert '"status":"ready"' in frame
    finally:
        await stream.close()
