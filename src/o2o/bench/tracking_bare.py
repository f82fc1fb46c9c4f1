"""The C1 baseline: a bare Starlette broadcaster of courier positions through Redis.

What live tracking needs, and nothing else: a POST that publishes the courier's batch on
Redis, and a WebSocket per watcher fed by one Redis subscription per process. No
authentication, no database, no validation: the floor our own path is measured against.
Run it as the benchmark does: ``uvicorn --factory o2o.bench.tracking_bare:create_app``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as redis_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

CHANNEL = "bare:courier:{}"


def create_app() -> Starlette:
    redis = redis_asyncio.from_url(
        os.environ.get("O2O_REDIS_URL", "redis://127.0.0.1:6379/0"), decode_responses=True
    )
    pubsub = redis.pubsub()
    watchers: dict[str, set[WebSocket]] = defaultdict(set)
    subscribing = asyncio.Lock()  # redis-py loses subscriptions sent concurrently on one PubSub

    async def forward() -> None:
        while True:
            if pubsub.connection is None:
                await asyncio.sleep(0.01)
                continue
            item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if item and item["type"] == "message":
                for ws in list(watchers.get(item["channel"], ())):
                    with contextlib.suppress(Exception):
                        await ws.send_text(item["data"])

    async def post_positions(request: Request) -> Response:
        body = (await request.body()).decode()
        await redis.publish(CHANNEL.format(request.path_params["courier"]), body)
        return Response(status_code=204)

    async def watch(ws: WebSocket) -> None:
        channel = CHANNEL.format(ws.path_params["courier"])
        await ws.accept()
        async with subscribing:
            first = not watchers[channel]
            watchers[channel].add(ws)
            if first:
                await pubsub.subscribe(channel)
        await ws.send_text('{"ready":true}')
        try:
            while True:
                await ws.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            watchers[channel].discard(ws)

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(forward())
        yield
        task.cancel()
        await redis.aclose()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/positions/{courier}", post_positions, methods=["POST"]),
            WebSocketRoute("/watch/{courier}", watch),
        ],
        lifespan=lifespan,
    )
