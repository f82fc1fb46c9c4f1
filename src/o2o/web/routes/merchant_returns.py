"""Merchant console: the returns desk.

Staff type or scan an order number or pickup code, see what is left to take back on each
line, and take units back for a refund or exchange them for another variant, at this store.
The page calls the same services as ``POST /api/v1/stores/{id}/returns`` does; a form goes
through once (``o2o.web.once``), and every refusal is shown on the page in the visitor's
language.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from o2o.core.errors import DomainError
from o2o.http.deps import IdPath, OptionalIdQuery, SessionDep, kick_relay, policy_of, providers_of
from o2o.merchants.models import Store
from o2o.orders import returns
from o2o.orders.returns import ReturnDone
from o2o.web import deps, once, order_board, returns_desk
from o2o.web.deps import UserDep
from o2o.web.render import redirect, render
from o2o.web.routes.merchant import store_for
from o2o.web.routes.merchant_orders import WORDS, pick_store

router = APIRouter(
    prefix="/merchant", include_in_schema=False, dependencies=[Depends(deps.check_csrf)]
)
Ids = Annotated[list[int], Form(max_length=returns.MAX_RETURN_LINES)]


@router.get("/returns")
async def pick_returns_store(
    request: Request, session: SessionDep, viewer: UserDep, store: OptionalIdQuery = None
) -> Response:
    if store is not None:
        return redirect(request, f"/merchant/stores/{store}/returns")
    return await pick_store(request, session, viewer, "returns")


def _page(
    request: Request,
    store: Store,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> Response:
    """The whole desk page, or just its results (what HTMX swaps in)."""
    full = {"section": "returns", "store": store, "form_key": once.new_key(), **WORDS, **context}
    fragment = request.headers.get("hx-request") and request.headers.get("hx-target") == "desk"
    template = "merchant/_returns_desk.html" if fragment else "merchant/returns.html"
    return render(request, template, full, status=status)


@router.get("/stores/{store_id}/returns")
async def desk(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    store_id: IdPath,
    q: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The search field, and the orders matching what was typed or scanned."""
    store = await store_for(session, viewer, store_id)
    q = q.strip()
    found = (
        await returns_desk.find(session, store=store, q=q, policy=policy_of(request)) if q else []
    )
    return _page(request, store, {"q": q, "searched": bool(q), "found": found})


@router.post("/stores/{store_id}/returns")
async def take_back(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    store_id: IdPath,
    order_id: Annotated[int, Form(ge=1, le=returns_desk.MAX_ID)],
    form_key: Annotated[str, Form(max_length=255)] = "",
    reason: Annotated[str, Form(max_length=300)] = "",
    restock: Annotated[bool, Form()] = False,
    line: Ids = [],  # noqa: B006 (FastAPI copies defaults)
    qty: Annotated[list[int], Form(max_length=returns.MAX_RETURN_LINES)] = [],  # noqa: B006
    do: Annotated[list[str], Form(max_length=returns.MAX_RETURN_LINES)] = [],  # noqa: B006
    q: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Refund and/or exchange the chosen units at this store, once per form."""
    store = await store_for(session, viewer, store_id)
    policy = policy_of(request)
    sent: dict[int, tuple[int, str]] = {}
    try:
        wanted = returns_desk.read_form(line, qty, do)
        sent = wanted.sent
        said = {
            "order_id": order_id,
            "refund": wanted.refund,
            "exchange": wanted.exchange,
            "exchange_to": wanted.exchange_to,
            "reason": reason.strip(),
            "restock": restock,
        }

        async def action() -> dict[str, Any]:
            done: list[ReturnDone] = []
            if wanted.exchange:  # first: the refund, if any, is the last thing done
                done.append(
                    await returns.exchange_items(
                        session,
                        receiving_store=store,
                        order_id=order_id,
                        lines=wanted.exchange,
                        exchange_to=wanted.exchange_to,
                        reason=reason,
                        actor_user_id=viewer.user_id,
                        restock=restock,
                        policy=policy,
                    )
                )
            if wanted.refund or not wanted.exchange:
                done.append(
                    await returns.return_items(
                        session,
                        receiving_store=store,
                        order_id=order_id,
                        lines=wanted.refund,
                        reason=reason,
                        actor_user_id=viewer.user_id,
                        providers=providers_of(request),
                        restock=restock,
                        policy=policy,
                    )
                )
            return await returns_desk.outcome(session, done)

        outcome = await once.run_once(
            session,
            user_id=viewer.user_id,
            route=f"/merchant/stores/{store.id}/returns",
            key=form_key,
            body=said,
            action=action,
        )
    except DomainError as exc:
        if exc.status >= 500:
            raise
        await session.rollback()
        store = await store_for(session, viewer, store_id)
        return await _refused(request, session, store, order_id, exc, sent, reason, restock, q)
    kick_relay(request)
    found = [await returns_desk.desk_order(session, store=store, order_id=order_id, policy=policy)]
    context = {"q": q, "searched": True, "found": found, "done": outcome}
    return _page(request, store, context)


async def _refused(
    request: Request,
    session: SessionDep,
    store: Store,
    order_id: int,
    exc: DomainError,
    sent: dict[int, tuple[int, str]],
    reason: str,
    restock: bool,
    q: str,
) -> Response:
    """The refusal, said in words, above the order with what was typed still in the form."""
    policy = policy_of(request)
    zone = await order_board.zone_of(session, store)
    try:
        found = [
            await returns_desk.desk_order(session, store=store, order_id=order_id, policy=policy)
        ]
    except DomainError:  # no such order, or not this merchant's: nothing to show again
        found = []
    until = order_board.local_stamp(exc.extra.get("returnable_until"), zone)
    problem = {"code": exc.code, "extra": exc.extra, "until": until, "field": exc.field}
    context = {
        "q": q,
        "searched": True,
        "found": found,
        "problem": problem,
        "sent": sent,
        "reason": reason,
        "restock": restock,
    }
    return _page(request, store, context, status=exc.status)
