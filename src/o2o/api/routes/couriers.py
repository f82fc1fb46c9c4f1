"""Couriers' own API: shift, profile and tasks, positions, and each step of a delivery;
and the tracking of a delivery order for its shopper and its store."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from o2o.api.deps import IdPath, PrincipalDep, SessionDep
from o2o.core.broker import Broker
from o2o.core.clock import utcnow
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
from o2o.http.deps import kick_relay, providers_of
from o2o.http.sse import channel_events
from o2o.orders import service as orders_service
from o2o.orders.channels import order_channel
from o2o.orders.exceptions import OrderNotFound
from o2o.orders.models import Order

router = APIRouter(tags=["couriers"])


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


@router.post("/couriers/me/positions", response_model=PositionsRead)
async def courier_positions(
    request: Request, session: SessionDep, principal: PrincipalDep, body: PositionsIn
) -> PositionsRead:
    """A batch of ``{lat, lng, at}``, all kept or (at the first bad one) none. The shoppers
    following this courier hear the newest position at once."""
    user_id = couriers.require_courier(principal)
    now = utcnow()
    policy = _policy(request)
    fixes = [positions.Fix(p.lat, p.lng, p.at) for p in body.positions]
    batch = await ingest_pg.keep(session, courier_id=user_id, fixes=fixes, policy=policy, now=now)
    done, messages = batch.recorded, batch.news
    stale = positions.is_stale(done.courier, now=now, policy=policy)
    await session.commit()
    await live.publish(request, messages)
    return PositionsRead(accepted=done.accepted, moved=done.moved, stale=stale)


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
