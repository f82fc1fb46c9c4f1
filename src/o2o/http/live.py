"""Live news both edges send after a commit, and the streams of the dispatch board."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from fastapi import Request
from fastapi.requests import HTTPConnection
from fastapi.responses import StreamingResponse

from o2o.core.broker import Broker
from o2o.http.sse import channel_events
from o2o.orders.channels import region_channel

log = logging.getLogger("o2o.live")

Message = tuple[str, dict[str, object]]


async def publish(request: HTTPConnection, messages: Iterable[Message]) -> None:
    """Publish what a committed change says (in one trip to the broker); a broker that fails
    loses live news only (the pages read the truth again), never the request that made the
    change. ``request``: the request or the WebSocket the change came in on."""
    broker: Broker = request.app.state.broker
    try:
        await broker.publish_many(messages)
    except Exception:  # the change is committed: a lost live message must not undo the answer
        log.exception("could not publish live news")


def board_stream(request: Request, region_id: int) -> StreamingResponse:
    """``board`` events of the region: ``courier`` (a courier moved) and ``change`` (a
    delivery or a shift changed: read the board again)."""
    broker: Broker = request.app.state.broker
    stream = channel_events(
        broker,
        [region_channel(region_id)],
        disconnected=request.is_disconnected,
        event="board",
        keep=lambda m: m.get("type") in ("courier", "change"),
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
