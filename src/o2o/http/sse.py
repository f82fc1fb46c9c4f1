"""Server-sent events from broker channels, with heartbeats, ending when the client leaves.

Shared by both edges (the API streams and the pages' live updates).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from o2o.core.broker import Broker

HEARTBEAT_S = 15.0


def format_event(data: dict[str, Any], *, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n"


async def channel_events(
    broker: Broker,
    channels: list[str],
    *,
    disconnected: Callable[[], Awaitable[bool]],
    event: str,
    keep: Callable[[dict[str, Any]], bool] = lambda _m: True,
    heartbeat_s: float = HEARTBEAT_S,
) -> AsyncIterator[str]:
    """Yield SSE frames for messages on ``channels`` that pass ``keep``, until disconnect."""
    async with broker.subscribe(*channels) as messages:
        yield ": connected\n\n"
        pending: asyncio.Task[dict[str, Any]] | None = None
        try:
            while not await disconnected():
                if pending is None:
                    pending = asyncio.ensure_future(anext(messages))
                done, _ = await asyncio.wait({pending}, timeout=heartbeat_s)
                if not done:
                    yield ": keep-alive\n\n"
                    continue
                message = pending.result()
                pending = None
                if keep(message):
                    yield format_event(message, event=event)
        finally:
            if pending is not None:
                pending.cancel()
