"""Couriers' own API: shift, profile and tasks, positions, and each step of a delivery;
and the tracking of a delivery order for its shopper and its store."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect, status
from fastapi.exceptions import RequestValidationError
from fastapi.requests import HTTPConnection
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ValidationError
from sqlalchemy import exc as sqlalchemy_exc
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import BaseRoute, Match
from starlette.types import Message, Receive, Scope, Send

from o2o.api import errors as api_errors
from o2o.api.deps import IdPath, PrincipalDep, SessionDep, principal_from_header
from o2o.core.broker import Broker
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.core.errors import DomainError
from o2o.delivery import board, couriers, ingest_pg, positions, summary, tasks, tracking
from o2o.delivery.models import Delivery
from o2o.delivery.policy import CourierPolicy
from o2o.delivery.schemas import (
    CodeIn,
    CourierMe,
    FailIn,
    PositionsIn,
    PositionsRead,
    ShiftIn,
    TrackingRead,
)
from o2o.http import live
from o2o.http.deps import kick_relay, principal_cache_of, providers_of
from o2o.http.sse import channel_events
from o2o.orders import service as orders_service
from o2o.orders.channels import order_channel
from o2o.orders.exceptions import OrderNotFound
from o2o.orders.models import Order

router = APIRouter(tags=["couriers"])
log = logging.getLogger("o2o.api")
POSITIONS = "/couriers/me/positions"


def _policy(request: Request) -> CourierPolicy:
    policy: CourierPolicy = request.app.state.courier_policy
    return policy


async def _me(request: Request, session: SessionDep, user_id: int, name: str) -> CourierMe:
    return await summary.courier_me(
        session, user_id=user_id, display_name=name, policy=_policy(request), now=utcnow()
    )


@router.get("/couriers/me", response_model=CourierMe)
async def courier_me(request: Request, session: SessionDep, principal: PrincipalDep) -> CourierMe:
    """The courier's profile, shift, open tasks and earnings today."""
    user_id = couriers.require_courier(principal)
    me = await _me(request, session, user_id, principal.display_name)
    await session.commit()  # the profile is made on first use
    return me


@router.post("/couriers/me/shift", response_model=CourierMe)
async def courier_shift(
    request: Request, session: SessionDep, principal: PrincipalDep, body: ShiftIn
) -> CourierMe:
    """Go on shift (optionally in a region, on a vehicle) or off it."""
    user_id = couriers.require_courier(principal)
    courier = await couriers.set_shift(
        session, user_id=user_id, on=body.on, region_id=body.region_id, vehicle=body.vehicle
    )
    me = await _me(request, session, user_id, principal.display_name)
    await session.commit()
    await live.publish(
        request, [board.changed(courier.region_id, what="shift", courier_id=user_id)]
    )
    return me


@router.post(POSITIONS, response_model=PositionsRead)
async def courier_positions(
    request: Request, session: SessionDep, principal: PrincipalDep, body: PositionsIn
) -> PositionsRead:
    """A batch of ``{lat, lng, at}``, all kept or (at the first bad one) none. The shoppers
    following this courier hear the newest position at once."""
    user_id = couriers.require_courier(principal)
    return await _take_positions(request, session, user_id, body)


async def _take_positions(
    connection: HTTPConnection, session: AsyncSession, user_id: int, body: PositionsIn
) -> PositionsRead:
    """Keep the batch (one transaction), then tell its followers: the POST and the
    WebSocket alike."""
    now = utcnow()
    policy: CourierPolicy = connection.app.state.courier_policy
    fixes = [positions.Fix(p.lat, p.lng, p.at) for p in body.positions]
    batch = await ingest_pg.keep(session, courier_id=user_id, fixes=fixes, policy=policy, now=now)
    done, messages = batch.recorded, batch.news
    stale = positions.is_stale(done.courier, now=now, policy=policy)
    await session.commit()
    await live.publish(connection, messages)
    return PositionsRead(accepted=done.accepted, moved=done.moved, stale=stale)


class PositionsLane(BaseRoute):
    """``POST /couriers/me/positions`` with a JSON body, without FastAPI's machinery per
    request (dependency solving, body handling, response model), placed first among the
    app's routes. Couriers post every few seconds all day; this is what the route costs in
    the framework, not in its rules. The same answers in the same order: a malformed body
    (422 ``validation_error``) before the token (401), the token before the fields (422),
    then ``_take_positions``, exactly as the route above does; its errors go through the
    app's handlers. Anything else on that path (another method, another content type)
    matches nothing here and reaches the route above."""

    def __init__(self, path: str) -> None:
        self.path = path

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope.get("method") != "POST":
            return Match.NONE, {}
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if path != self.path or not _json_body(scope):
            return Match.NONE, {}
        return Match.FULL, {"endpoint": courier_positions}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        response = await _positions_lane(request)
        await response(scope, receive, send)


def _json_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            kind: bytes = value.split(b";", 1)[0].strip().lower()
            return kind == b"application/json" or (
                kind.startswith(b"application/") and kind.endswith(b"+json")
            )
    return False


async def _positions_lane(request: Request) -> Response:
    raw = await request.body()
    parsed: Any = None
    if raw:
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:  # as FastAPI words it
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error",
                  "input": {}, "ctx": {"error": exc.msg}}]
            ) from exc  # fmt: skip
    db: Database = request.app.state.database
    async with db.session() as session:
        principal = await principal_from_header(
            session, request.headers.get("authorization"), cache=principal_cache_of(request)
        )
        if not raw:
            raise RequestValidationError(
                [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
            )
        try:
            body = PositionsIn.model_validate(parsed)
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
            raise RequestValidationError(errors) from exc
        user_id = couriers.require_courier(principal)
        answer = await _take_positions(request, session, user_id, body)
    return Response(answer.model_dump_json(), media_type="application/json")


POSITIONS_WS = "/couriers/me/positions/ws"
REAUTH_S = 30.0  # a revoked or expired token stops a connected courier within this
MAX_MESSAGE_CHARS = 64 * 1024  # 100 positions are about 8 KB


@router.websocket(POSITIONS_WS)
async def courier_positions_ws(websocket: WebSocket) -> None:
    """The courier app's persistent connection for positions: authenticated once (the same
    ``Authorization: Bearer`` header as the API), then each text message is a batch, the
    body of ``POST /couriers/me/positions``, and gets one answer, in order: that route's
    answer, or a problem details object (``status``, ``code``) after which the connection
    stays open. A refused handshake is answered with the problem over HTTP. The token is
    checked again every ``REAUTH_S`` seconds: once it is revoked or expired, a last problem
    message and the connection closes (1008)."""
    db: Database = websocket.app.state.database
    token = websocket.headers.get("authorization")
    try:
        async with db.session() as session:
            user_id = await _courier_of(session, token)
    except DomainError as exc:
        await _deny(websocket, api_errors.domain_problem(exc, instance=websocket.url.path))
        return
    except (sqlalchemy_exc.TimeoutError, sqlalchemy_exc.OperationalError) as exc:
        log.warning("database busy on the positions WebSocket's handshake: %s", exc)
        await _deny(websocket, _busy(websocket.url.path))
        return
    await websocket.accept()
    checked = time.monotonic()
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            async with db.session() as session:
                if time.monotonic() - checked > REAUTH_S:
                    try:
                        await _courier_of(session, token)
                    except DomainError as exc:
                        body = api_errors.domain_problem(exc, instance=websocket.url.path)
                        await websocket.send_text(_dumps(body))
                        await websocket.close(code=status.WS_1008_POLICY_VIOLATION)
                        return
                    checked = time.monotonic()
                answer, keep_open = await _ws_answer(websocket, session, user_id, message)
            await websocket.send_text(_dumps(answer))
            if not keep_open:
                await websocket.close(code=status.WS_1011_INTERNAL_ERROR)
                return


async def _courier_of(session: AsyncSession, authorization: str | None) -> int:
    """The courier behind the handshake's ``Authorization`` header, as the API reads it."""
    # no remembered answer: a connection checks its token rarely, and then exactly
    return couriers.require_courier(await principal_from_header(session, authorization))


async def _deny(websocket: WebSocket, body: dict[str, Any]) -> None:
    """Refuse the handshake with the problem as an HTTP answer (or a bare close, on a server
    that cannot send one)."""
    response = JSONResponse(body, status_code=body["status"], media_type=api_errors.PROBLEM)
    try:
        await websocket.send_denial_response(response)
    except RuntimeError:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=body["code"])


def _busy(instance: str) -> dict[str, Any]:
    detail = "The service is busy; nothing was changed. Try again in a moment."
    return api_errors.problem_body(
        503, "temporarily_unavailable", "Temporarily unavailable", detail, instance=instance
    )


async def _ws_answer(
    websocket: WebSocket, session: AsyncSession, user_id: int, message: Message
) -> tuple[dict[str, Any], bool]:
    """The answer to one message, and whether the connection stays open after it."""
    instance = websocket.url.path
    text = message.get("text")
    if not isinstance(text, str):
        detail = "Send each batch as a text message of JSON."
        return api_errors.problem_body(415, "unsupported_media_type", "Unsupported media type",
                                       detail, instance=instance), True  # fmt: skip
    if len(text) > MAX_MESSAGE_CHARS:
        detail = f"A batch is at most {MAX_MESSAGE_CHARS:,} characters; send smaller batches."
        return api_errors.problem_body(413, "payload_too_large", "Payload too large", detail,
                                       instance=instance), True  # fmt: skip
    try:
        body = PositionsIn.model_validate_json(text)
    except ValidationError as exc:
        return api_errors.validation_problem(exc.errors(), instance=instance), True
    try:
        done = await _take_positions(websocket, session, user_id, body)
    except DomainError as exc:
        await session.rollback()
        return api_errors.domain_problem(exc, instance=instance), True
    except (sqlalchemy_exc.TimeoutError, sqlalchemy_exc.OperationalError) as exc:
        await session.rollback()
        log.warning("database busy on the positions WebSocket: %s", exc)
        return _busy(instance), True
    except Exception:
        log.exception("unhandled error on the positions WebSocket")
        detail = "Something went wrong on our side; it has been logged."
        return api_errors.problem_body(500, "internal_error", "Internal error", detail,
                                       instance=instance), False  # fmt: skip
    return done.model_dump(mode="json"), True


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


async def _task_answer(request: Request, session: SessionDep, principal: PrincipalDep,
                       delivery: Delivery) -> CourierMe:  # fmt: skip
    me = await _me(request, session, principal.user_id, principal.display_name)
    await session.commit()
    await live.publish(request, [board.delivery_changed(delivery)])
    kick_relay(request)
    return me


@router.post("/couriers/me/deliveries/{delivery_id}/accept", response_model=CourierMe)
async def accept_delivery(
    request: Request, session: SessionDep, principal: PrincipalDep, delivery_id: IdPath
) -> CourierMe:
    """Take the assignment on."""
    user_id = couriers.require_courier(principal)
    done = await tasks.accept(session, delivery_id=delivery_id, courier_id=user_id)
    return await _task_answer(request, session, principal, done)


@router.post("/couriers/me/deliveries/{delivery_id}/decline", response_model=CourierMe)
async def decline_delivery(
    request: Request, session: SessionDep, principal: PrincipalDep, delivery_id: IdPath
) -> CourierMe:
    """Turn the assignment down: it goes back to dispatch."""
    user_id = couriers.require_courier(principal)
    done = await tasks.decline(session, delivery_id=delivery_id, courier_id=user_id)
    return await _task_answer(request, session, principal, done)


@router.post("/couriers/me/deliveries/{delivery_id}/pickup", response_model=CourierMe)
async def pick_up_delivery(
    request: Request, session: SessionDep, principal: PrincipalDep, delivery_id: IdPath
) -> CourierMe:
    """The goods are in hand (the store had them ready): the order is out for delivery."""
    user_id = couriers.require_courier(principal)
    done = await tasks.pick_up(session, delivery_id=delivery_id, courier_id=user_id)
    return await _task_answer(request, session, principal, done)


@router.post("/couriers/me/deliveries/{delivery_id}/deliver", response_model=CourierMe)
async def deliver_delivery(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    delivery_id: IdPath,
    body: CodeIn,
) -> CourierMe:
    """Hand over with the shopper's delivery code: the order is delivered."""
    user_id = couriers.require_courier(principal)
    done = await tasks.deliver(
        session, delivery_id=delivery_id, courier_id=user_id, code_text=body.code
    )
    return await _task_answer(request, session, principal, done)


@router.post("/couriers/me/deliveries/{delivery_id}/fail", response_model=CourierMe)
async def fail_delivery(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    delivery_id: IdPath,
    body: FailIn,
) -> CourierMe:
    """The shopper could not be reached: take the goods back to the store."""
    user_id = couriers.require_courier(principal)
    done = await tasks.fail(
        session, delivery_id=delivery_id, courier_id=user_id, reason=body.reason
    )
    return await _task_answer(request, session, principal, done)


@router.post("/couriers/me/deliveries/{delivery_id}/return", response_model=CourierMe)
async def return_delivery(
    request: Request, session: SessionDep, principal: PrincipalDep, delivery_id: IdPath
) -> CourierMe:
    """The failed delivery is back at the store: the order is cancelled and refunded."""
    user_id = couriers.require_courier(principal)
    done = await tasks.give_back(
        session, delivery_id=delivery_id, courier_id=user_id, providers=providers_of(request)
    )
    return await _task_answer(request, session, principal, done)


# -- tracking ----------------------------------------------------------------------------------
async def _watched(
    session: SessionDep, principal: PrincipalDep, order_id: int
) -> tuple[Order, bool]:
    """The order if the caller is its shopper (True) or works at its store (False)."""
    order = await orders_service.get_order(session, order_id=order_id)
    if order.shopper_id == principal.user_id:
        return order, True
    if principal.can_see_store(order.merchant_id, order.store_id):
        return order, False
    raise OrderNotFound(f"There is no order {order_id}.")


@router.get("/orders/{order_id}/tracking", response_model=TrackingRead)
async def order_tracking(
    session: SessionDep, principal: PrincipalDep, order_id: IdPath
) -> TrackingRead:
    """The courier's position (while the delivery is in progress) and the ETA; the shopper
    also sees the delivery code to tell the courier. The store's staff see the same, without
    the code."""
    order, for_shopper = await _watched(session, principal, order_id)
    now = utcnow()
    view = await tracking.tracking(session, order=order, for_shopper=for_shopper, now=now)
    return summary.tracking_read(view, now)


@router.get(
    "/orders/{order_id}/tracking/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def order_tracking_stream(
    request: Request, session: SessionDep, principal: PrincipalDep, order_id: IdPath
) -> StreamingResponse:
    """``tracking`` events (the tracking read, without the delivery code) each time the
    courier moves, and ``order`` status changes of the order as they happen."""
    order, _ = await _watched(session, principal, order_id)
    await tracking.tracking(session, order=order, for_shopper=False, now=utcnow())
    await session.close()  # do not hold a connection for the life of the stream
    broker: Broker = request.app.state.broker
    stream = channel_events(
        broker,
        [order_channel(order.id)],
        disconnected=request.is_disconnected,
        event="tracking",
        keep=lambda m: m.get("type") in ("tracking", "order"),
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
