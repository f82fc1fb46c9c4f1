"""The operator's dispatch board (platform admins): a region's couriers and open deliveries
with their lateness, a live stream of its changes, and manual reassignment."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from o2o.accounts.exceptions import NotAllowed
from o2o.accounts.principal import Principal
from o2o.api.deps import IdPath, PrincipalDep, SessionDep
from o2o.core.clock import utcnow
from o2o.delivery import assign, board
from o2o.delivery.policy import CourierPolicy
from o2o.delivery.schemas import DispatchBoard, ReassignIn, ReassignRead
from o2o.http import live
from o2o.regions import service as regions_service

router = APIRouter(tags=["dispatch"])


def _require_admin(principal: Principal) -> None:
    if not principal.is_platform_admin:
        raise NotAllowed("Only platform administrators can see the dispatch board.")


def _policy(request: Request) -> CourierPolicy:
    policy: CourierPolicy = request.app.state.courier_policy
    return policy


@router.get("/admin/regions/{region_id}/dispatch-board", response_model=DispatchBoard)
async def dispatch_board(
    request: Request, session: SessionDep, principal: PrincipalDep, region_id: IdPath
) -> DispatchBoard:
    """Every courier on shift in the region (last position and its age, stale or not, what it
    holds) and every open delivery (store, drop-off, courier, placed/ready/promised times, the
    projected hand-over and its lateness: on_time, at_risk or late), most late first."""
    _require_admin(principal)
    return await board.board(session, region_id=region_id, policy=_policy(request), now=utcnow())


@router.get(
    "/admin/regions/{region_id}/dispatch-board/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def dispatch_board_stream(
    request: Request, session: SessionDep, principal: PrincipalDep, region_id: IdPath
) -> StreamingResponse:
    """``board`` events: ``{"type": "courier", ...}`` each time a courier's positions move it
    (its new position), ``{"type": "change", ...}`` when a delivery or a shift of the region
    changes (read the board again)."""
    _require_admin(principal)
    await regions_service.get_region(session, region_id=region_id)
    await session.close()  # do not hold a connection for the life of the stream
    return live.board_stream(request, region_id)


@router.post("/admin/deliveries/{delivery_id}/reassign", response_model=ReassignRead)
async def reassign_delivery(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    delivery_id: IdPath,
    body: ReassignIn,
) -> ReassignRead:
    """Give the delivery to another courier on shift in its region (it gets it as an offer,
    as from dispatch); the previous courier no longer holds it. With ``"courier_id": null``
    the delivery goes back to dispatch (``requested``), its courier no longer holds it, and
    the next round may assign it again. Refused (409) once the goods are picked up
    (``delivery_already_picked_up``), delivered or cancelled, when the store's staff carry
    it, and when the courier is off shift or full."""
    _require_admin(principal)
    if body.courier_id is None:
        done, previous = await assign.unassign(session, delivery_id=delivery_id, now=utcnow())
    else:
        done, previous = await assign.reassign(
            session, delivery_id=delivery_id, courier_id=body.courier_id, now=utcnow()
        )
    read = ReassignRead(
        delivery_id=done.id,
        order_id=done.order_id,
        status=done.status.value,
        courier_id=done.courier_id,
        previous_courier_id=previous,
    )
    await session.commit()
    await live.publish(request, [board.delivery_changed(done)])
    return read
