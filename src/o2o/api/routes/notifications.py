"""The caller's in-app notifications: the list, marking them read, and a live stream."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from o2o.api.deps import PrincipalDep, SessionDep
from o2o.core.broker import Broker
from o2o.http.sse import channel_events
from o2o.notifications import service as notifications_service
from o2o.notifications.schemas import NotificationPage, NotificationRead

router = APIRouter(tags=["notifications"])


@router.get("/me/notifications", response_model=NotificationPage)
async def my_notifications(
    session: SessionDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> NotificationPage:
    """The caller's latest notifications, newest first, and how many are unread."""
    rows = await notifications_service.recent(session, user_id=principal.user_id, limit=limit)
    unread = await notifications_service.unread_count(session, user_id=principal.user_id)
    return NotificationPage(items=[NotificationRead.model_validate(n) for n in rows], unread=unread)


@router.post("/me/notifications/read", status_code=status.HTTP_204_NO_CONTENT)
async def mark_all_read(session: SessionDep, principal: PrincipalDep) -> Response:
    await notifications_service.mark_read(session, user_id=principal.user_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/me/notifications/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def notification_stream(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> StreamingResponse:
    """``order`` events ``{order_id, status, store_id, ...}`` the moment one of the caller's
    orders changes in a way they hear about (the same changes that add a notification)."""
    await session.close()  # do not hold a connection for the life of the stream
    broker: Broker = request.app.state.broker
    stream = channel_events(
        broker,
        [notifications_service.channel(principal.user_id)],
        disconnected=request.is_disconnected,
        event="order",
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
