"""Stock events reach a product's live stream, filtered by store, and the stream ends on leave."""

from __future__ import annotations

import asyncio

import httpx

from o2o.core.broker import InProcessBroker
from o2o.http.sse import channel_events


async def test_events_are_framed_filtered_and_stop_on_disconnect() -> None:
    broker = InProcessBroker()
    gone = asyncio.Event()

    async def disconnected() -> bool:
        return gone.is_set()

    stream = channel_events(
        broker,
        ["stock:variant:1", "stock:variant:2"],
        disconnected=disconnected,
        event="stock",
        keep=lambda m: m["store_id"] == 7,
        heartbeat_s=0.05,
    )
    assert await anext(stream) == ": connected\n\n"
    await broker.publish("stock:variant:2", {"store_id": 8, "variant_id": 2, "available": 1})
    await broker.publish("stock:variant:1", {"store_id": 7, "variant_id": 1, "available": 3})
    frame = await asyncio.wait_for(anext(stream), 1)
    assert frame == 'event: stock\ndata: {"store_id":7,"variant_id":1,"available":3}\n\n'
    assert await asyncio.wait_for(anext(stream), 1) == ": keep-alive\n\n"
    gone.set()
    rest = [frame async for frame in stream]
    assert all(f.startswith(":") for f in rest)


async def test_stream_of_an_unknown_product_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/products/987654321/stock/stream")
    assert r.status_code == 404
    assert r.json()["code"] == "product_not_found"
