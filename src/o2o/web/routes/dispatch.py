"""Admin console: the dispatch board of a region (platform admins only), as ``GET
/api/v1/admin/regions/{id}/dispatch-board`` gives it: a map of the couriers on shift and the
open deliveries, the deliveries most late first, and manual reassignment (or sending a held
delivery back to dispatch).

The page follows the region's channel (server-sent events): a courier's new position moves
its marker at once; any other change reloads the board fragment, which carries the markers'
data with it. Reassignment is a form post to the delivery service (HTMX swaps the refreshed
board; without scripts the page comes back)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response, StreamingResponse

from o2o.accounts.exceptions import NotAllowed
from o2o.accounts.principal import Principal
from o2o.core.clock import utcnow
from o2o.core.errors import DomainError
from o2o.delivery import assign, board
from o2o.delivery.models import Delivery
from o2o.delivery.policy import CourierPolicy
from o2o.delivery.schemas import DispatchBoard
from o2o.http import live
from o2o.http.deps import IdPath, OptionalIdQuery, SessionDep
from o2o.regions import service as regions_service
from o2o.regions.exceptions import RegionNotFound
from o2o.regions.models import Region
from o2o.web import deps, when
from o2o.web.deps import UserDep
from o2o.web.render import redirect, render
from o2o.web.vocabulary import N_

router = APIRouter(
    prefix="/admin/dispatch", include_in_schema=False, dependencies=[Depends(deps.check_csrf)]
)
# Why a reassignment was refused, in the words the page translates.
REFUSALS = {
    "delivery_not_found": N_("That delivery is no longer on the board."),
    "courier_not_found": N_("Choose a courier on shift."),
    "courier_off_shift": N_("That courier has gone off shift."),
    "courier_in_other_region": N_("That courier works in another region."),
    "courier_at_bundle_limit": N_("That courier already carries as many orders as allowed."),
    "delivery_already_picked_up": N_("The courier has picked the order up already."),
    "delivery_already_delivered": N_("The order has been delivered."),
    "delivery_cancelled": N_("The order was cancelled."),
    "delivery_by_store": N_("The store's own staff carry this order."),
}
STATUS = {
    "requested": N_("Waiting for a courier"),
    "assigned": N_("Assigned"),
    "picked_up": N_("On the way"),
}
COURIER_STATE = {"idle": N_("Idle"), "busy": N_("With a task"), "stale": N_("Not heard from")}
VEHICLES = {
    "bicycle": N_("Bicycle"),
    "ebike": N_("E-bike"),
    "scooter": N_("Scooter"),
    "car": N_("Car"),
}


def _require_admin(viewer: Principal) -> None:
    if not viewer.is_platform_admin:
        raise NotAllowed("Only platform administrators can see the dispatch board.")


def _policy(request: Request) -> CourierPolicy:
    policy: CourierPolicy = request.app.state.courier_policy
    return policy


async def _region(session: SessionDep, region_id: int | None) -> tuple[Region, list[Region]]:
    """The chosen region (the first one when none is chosen) and all to choose from."""
    regions = await regions_service.list_regions(session)
    if region_id is None:
        if not regions:
            raise RegionNotFound("The platform has no active region yet.")
        return regions[0], regions
    chosen = await regions_service.get_region(session, region_id=region_id)
    return chosen, regions


def _markers(seen: DispatchBoard) -> dict[str, Any]:
    """What the map draws: couriers by state, orders by lateness (at the door)."""
    return {
        "couriers": [
            {
                "id": c.courier_id,
                "name": c.name,
                "state": c.state,
                "lat": c.position.lat,
                "lng": c.position.lng,
                "open": c.open_count,
            }
            for c in seen.couriers
            if c.position is not None
        ],
        "orders": [
            {
                "id": d.delivery_id,
                "order": d.order_id,
                "lateness": d.lateness,
                "courier": d.courier_id,
                "lat": d.dropoff.lat if d.dropoff.lat is not None else d.store.lat,
                "lng": d.dropoff.lng if d.dropoff.lng is not None else d.store.lng,
                "store": [d.store.lat, d.store.lng],
            }
            for d in seen.deliveries
        ],
    }


async def _context(
    request: Request, session: SessionDep, region: Region, regions: list[Region]
) -> dict[str, Any]:
    seen = await board.board(session, region_id=region.id, policy=_policy(request), now=utcnow())
    locale = deps.state(request).locale
    counts = {"late": 0, "at_risk": 0, "on_time": 0}
    for d in seen.deliveries:
        counts[d.lateness] += 1
    return {
        "section": "dispatch",
        "region": region,
        "regions": regions,
        "board": seen,
        "counts": counts,
        "markers": _markers(seen),
        "status_names": STATUS,
        "courier_states": COURIER_STATE,
        "stale_seconds": _policy(request).stale_seconds,
        "vehicles": VEHICLES,
        "message": None,
        "when": lambda at: when.local(at, timezone=region.timezone, locale=locale),
    }


async def _board(
    request: Request, session: SessionDep, viewer: UserDep, region: int | None, template: str
) -> Response:
    _require_admin(viewer)
    chosen, regions = await _region(session, region)
    return render(request, template, await _context(request, session, chosen, regions))


@router.get("")
async def page(
    request: Request, session: SessionDep, viewer: UserDep, region: OptionalIdQuery = None
) -> Response:
    return await _board(request, session, viewer, region, "admin/dispatch.html")


@router.get("/board")
async def board_fragment(
    request: Request, session: SessionDep, viewer: UserDep, region: OptionalIdQuery = None
) -> Response:
    """Just the board (lists and the markers' data): what the page swaps in on a change."""
    return await _board(request, session, viewer, region, "admin/_dispatch_board.html")


@router.get("/stream")
async def stream(
    request: Request, session: SessionDep, viewer: UserDep, region: OptionalIdQuery = None
) -> StreamingResponse:
    """``board`` events of the region, as the API's stream sends them."""
    _require_admin(viewer)
    chosen, _ = await _region(session, region)
    await session.close()  # do not hold a connection for the life of the stream
    return live.board_stream(request, chosen.id)


Move = Callable[[], Awaitable[tuple[Delivery, int | None]]]


async def _moved(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    *,
    delivery_id: int,
    region: int,
    move: Move,
) -> Response:
    """Run the operator's move; the answer is the refreshed board (HTMX) or the page, saying
    why when the delivery service refused."""
    _require_admin(viewer)
    message: str | None = None
    status = 200
    try:
        done, _previous = await move()
        await session.commit()
        await live.publish(request, [board.delivery_changed(done)])
    except DomainError as exc:
        await session.rollback()
        if exc.code not in REFUSALS:
            raise
        message, status = REFUSALS[exc.code], exc.status
    chosen, regions = await _region(session, region)
    if not request.headers.get("hx-request") and message is None:
        return redirect(request, f"/admin/dispatch?region={chosen.id}")
    context = await _context(request, session, chosen, regions)
    context["message"] = message
    context["moved"] = None if message else delivery_id
    template = "admin/_dispatch_board.html" if request.headers.get("hx-request") else None
    return render(request, template or "admin/dispatch.html", context, status=status)


@router.post("/deliveries/{delivery_id}/reassign")
async def reassign(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    delivery_id: IdPath,
    courier_id: Annotated[int, Form(ge=1, le=2**63 - 1)],
    region: Annotated[int, Form(ge=1, le=2**63 - 1)],
) -> Response:
    """Give the delivery to the chosen courier."""

    async def move() -> tuple[Delivery, int | None]:
        return await assign.reassign(
            session, delivery_id=delivery_id, courier_id=courier_id, now=utcnow()
        )

    return await _moved(request, session, viewer, delivery_id=delivery_id, region=region, move=move)


@router.post("/deliveries/{delivery_id}/unassign")
async def unassign(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    delivery_id: IdPath,
    region: Annotated[int, Form(ge=1, le=2**63 - 1)],
) -> Response:
    """Send the held delivery back to dispatch: its courier loses it, the next round may
    assign it again."""

    async def move() -> tuple[Delivery, int | None]:
        return await assign.unassign(session, delivery_id=delivery_id, now=utcnow())

    return await _moved(request, session, viewer, delivery_id=delivery_id, region=region, move=move)
