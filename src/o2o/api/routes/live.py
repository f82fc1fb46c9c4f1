"""Live updates over server-sent events: stock of a product's variants, as it changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from o2o.api.deps import IdPath, SessionDep
from o2o.catalog import service as catalog_service
from o2o.core.broker import Broker
from o2o.http.sse import channel_events

router = APIRouter(tags=["live"])


@router.get(
    "/products/{product_id}/stock/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def product_stock_stream(
    request: Request,
    session: SessionDep,
    product_id: IdPath,
    store_id: Annotated[list[int] | None, Query(max_length=100)] = None,
) -> StreamingResponse:
    """``stock`` events ``{store_id, variant_id, available, on_hand}`` for the product's variants
    (optionally only at the listed stores), sent the moment stock changes anywhere."""
    variants = await catalog_service.variants_of(session, product_id)
    if not variants:
        await catalog_service.get_product(session, product_id=product_id)
    await session.close()  # do not hold a connection for the life of the stream
    broker: Broker = request.app.state.broker
    stores = set(store_id or [])
    stream = channel_events(
        broker,
        [f"stock:variant:{v.id}" for v in variants],
        disconnected=request.is_disconnected,
        event="stock",
        keep=lambda m: not stores or m.get("store_id") in stores,
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
