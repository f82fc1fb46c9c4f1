"""The courier's page (mobile): shift on and off, the current tasks with a map and a
navigation link, pick up and hand over with the shopper's code, and today's pay. The phone's
position is sent from the page while it is open (cookie-authenticated twin of the API)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, Response

from o2o.core.clock import utcnow
from o2o.core.errors import DomainError
from o2o.delivery import board, couriers, ingest_pg, positions, summary, tasks
from o2o.delivery.policy import CourierPolicy
from o2o.delivery.schemas import PositionsIn
from o2o.http import live
from o2o.http.deps import IdPath, SessionDep, kick_relay, providers_of
from o2o.regions import service as regions_service
from o2o.web import deps, when
from o2o.web.deps import UserDep
from o2o.web.render import gettext, redirect, render

router = APIRouter(
    prefix="/courier", include_in_schema=False, dependencies=[Depends(deps.check_csrf)]
)
Step = Literal["accept", "decline", "pickup", "deliver", "fail", "return"]


def N_(message: str) -> str:  # noqa: N802 (the gettext convention for "translate later")
    return message


MESSAGES = {
    "delivery_changed": N_("This delivery has moved on meanwhile; here is where it stands."),
    "delivery_not_found": N_("This delivery is not yours (any more)."),
    "order_not_ready": N_("The store has not got the order ready yet. Wait at the counter."),
    "wrong_delivery_code": N_("That is not this order's delivery code. Ask the customer again."),
    "already_redeemed": N_("That code has already been used."),
    "deliveries_in_hand": N_("Deliver or return what you carry before going off shift."),
    "courier_not_on_shift": N_("Go on shift first."),
    "no_region": N_("There is no city to work in yet."),
}
STATUS = {
    "assigned": N_("Assigned to you"),
    "picked_up": N_("On the way to the customer"),
    "failed": N_("Bring it back to the store"),
}


def _policy(request: Request) -> CourierPolicy:
    policy: CourierPolicy = request.app.state.courier_policy
    return policy


async def _page(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    *,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    user_id = couriers.require_courier(viewer)
    me = await summary.courier_me(
        session,
        user_id=user_id,
        display_name=viewer.display_name,
        policy=_policy(request),
        now=utcnow(),
    )
    await session.commit()  # the profile is made on first use
    stops = []
    for t in me.tasks:
        stops.append({"lat": t.store.lat, "lng": t.store.lng, "kind": "store"})
        if t.dropoff.lat is not None:
            stops.append({"lat": t.dropoff.lat, "lng": t.dropoff.lng, "kind": "door"})
    here = me.last_position
    region = await regions_service.get_region(session, region_id=me.region_id)
    locale = deps.state(request).locale
    return render(
        request,
        "courier/index.html",
        {
            "me": me,
            "problem": problem,
            "status_names": STATUS,
            "stops": stops,
            "me_point": {"lat": here.lat, "lng": here.lng} if here else None,
            "when": lambda at: when.local(
                at, timezone=region.timezone, locale=locale, with_date=False
            ),
        },
        status=status,
    )


@router.get("")
async def courier_page(request: Request, session: SessionDep, viewer: UserDep) -> Response:
    return await _page(request, session, viewer)


async def _refused(
    request: Request, session: SessionDep, viewer: UserDep, exc: DomainError
) -> Response:
    await session.rollback()
    if exc.code not in MESSAGES:
        raise exc
    message = gettext(request, MESSAGES[exc.code])
    return await _page(request, session, viewer, problem=message, status=exc.status)


@router.post("/shift")
async def shift(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    on: Annotated[bool, Form()],
) -> Response:
    user_id = couriers.require_courier(viewer)
    try:
        me = await couriers.set_shift(session, user_id=user_id, on=on)
    except DomainError as exc:
        return await _refused(request, session, viewer, exc)
    await session.commit()
    await live.publish(request, [board.changed(me.region_id, what="shift", courier_id=user_id)])
    return redirect(request, "/courier")


@router.post("/deliveries/{delivery_id}/{step}")
async def task_step(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    delivery_id: IdPath,
    step: Step,
    code: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    user_id = couriers.require_courier(viewer)
    try:
        if step == "accept":
            done = await tasks.accept(session, delivery_id=delivery_id, courier_id=user_id)
        elif step == "decline":
            done = await tasks.decline(session, delivery_id=delivery_id, courier_id=user_id)
        elif step == "pickup":
            done = await tasks.pick_up(session, delivery_id=delivery_id, courier_id=user_id)
        elif step == "deliver":
            done = await tasks.deliver(
                session, delivery_id=delivery_id, courier_id=user_id, code_text=code
            )
        elif step == "fail":
            done = await tasks.fail(
                session, delivery_id=delivery_id, courier_id=user_id, reason="customer unreachable"
            )
        else:
            done = await tasks.give_back(
                session,
                delivery_id=delivery_id,
                courier_id=user_id,
                providers=providers_of(request),
            )
    except DomainError as exc:
        return await _refused(request, session, viewer, exc)
    await session.commit()
    await live.publish(request, [board.delivery_changed(done)])
    kick_relay(request)
    return redirect(request, "/courier")


@router.post("/positions")
async def send_positions(
    request: Request, session: SessionDep, viewer: UserDep, body: PositionsIn
) -> JSONResponse:
    """The page's geolocation, as ``POST /api/v1/couriers/me/positions`` takes it."""
    user_id = couriers.require_courier(viewer)
    now = utcnow()
    batch = await ingest_pg.keep(
        session,
        courier_id=user_id,
        fixes=[positions.Fix(p.lat, p.lng, p.at) for p in body.positions],
        policy=_policy(request),
        now=now,
    )
    done, news = batch.recorded, batch.news
    await session.commit()
    await live.publish(request, news)
    return JSONResponse({"accepted": done.accepted, "moved": done.moved})
