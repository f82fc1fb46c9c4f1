"""The shopper header's bell: the unread count, marking read, and live order news (SSE).

Pages log in with a cookie, which an ``EventSource`` sends and a Bearer token it cannot, so
the bell has these cookie-authenticated twins of ``/api/v1/me/notifications``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from o2o.core.broker import Broker
from o2o.http.deps import SessionDep
from o2o.http.sse import channel_events
from o2o.notifications import service as notifications_service
from o2o.web import deps
from o2o.web.deps import ViewerDep

router = APIRouter(
    prefix="/me/notifications", include_in_schema=False, dependencies=[Depends(deps.check_csrf)]
)


@router.get("/unread")
async def unread(session: SessionDep, viewer: ViewerDep) -> JSONResponse:
    count = 0
    if viewer is not None:
        count = await notifications_service.unread_count(session, user_id=viewer.user_id)
    return JSONResponse({"unread": count}, headers={"Cache-Control": "no-store"})


@router.post("/read")
async def mark_read(session: SessionDep, viewer: ViewerDep) -> Response:
    if viewer is not None:
        await notifications_service.mark_read(session, user_id=viewer.user_id)
        await session.commit()
    return Response(status_code=204)


@router.get("/stream")
async def stream(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    """``order`` events for the logged-in shopper; 204 (which ends an EventSource's retries)
    for a visitor."""
    await session.close()  # do not hold a connection for the life of the stream
    if viewer is None:
        return Response(status_code=204)
    broker: Broker = request.app.state.broker
    events = channel_events(
        broker,
        [notifications_service.channel(viewer.user_id)],
        disconnected=request.is_disconnected,
        event="order",
    )
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
