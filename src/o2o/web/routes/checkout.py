"""Checkout: one screen for one store's cart lines. The fulfilment choice first (only what the
store offers, priced by the quote), the store on a map, the address for delivery or shipping,
a sticky total and the pay button. Submitting places the order through the service layer, once
per form (a hidden one-time key), and goes on to paying (or, to try in store, to the order)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.principal import Principal
from o2o.core.errors import DomainError
from o2o.http.deps import OptionalIdQuery, SessionDep, kick_relay, policy_of, providers_of
from o2o.merchants import service as merchants_service
from o2o.merchants.exceptions import StoreNotFound
from o2o.orders import paying as orders_paying
from o2o.orders import placement, quotes
from o2o.orders import queries as orders_queries
from o2o.orders.exceptions import EmptyOrder, FulfilmentNotOffered
from o2o.orders.models import Fulfilment
from o2o.orders.schemas import AddressIn, FulfilmentQuote, LineIn, OrderCreate, QuoteRequest
from o2o.regions import service as regions_service
from o2o.web import cart_lines, deps, once, vocabulary, when
from o2o.web.deps import UserDep
from o2o.web.errors import CODES
from o2o.web.render import gettext, redirect, render
from o2o.web.routes.cart import cart_of, save

log = logging.getLogger("o2o.web")
router = APIRouter(include_in_schema=False, dependencies=[Depends(deps.check_csrf)])
NEARBY_M = 10_000
# Quote reasons that still let the shopper choose the option (the form supplies what is missing).
FIXABLE = {"address_required"}


@dataclass
class CheckoutForm:
    """What the shopper has entered so far (kept when the page comes back with a problem)."""

    fulfilment: str = ""
    address_text: str = ""
    lat: float | None = None
    lng: float | None = None
    contact_name: str = ""
    phone: str = ""
    note: str = ""
    key: str = field(default_factory=once.new_key)

    def address(self) -> AddressIn | None:
        if self.fulfilment not in ("delivery", "shipping"):
            return None
        if not self.address_text.strip() or self.lat is None or self.lng is None:
            return None
        return AddressIn(
            text=self.address_text.strip(),
            lat=self.lat,
            lng=self.lng,
            contact_name=self.contact_name.strip(),
            phone=self.phone.strip(),
        )


def _pick_group(groups: list[cart_lines.StoreGroup], store: int | None) -> Any:
    if store is None and len(groups) == 1:
        return groups[0]
    return next((g for g in groups if g.store.id == store), None)


async def _page(
    request: Request,
    session: AsyncSession,
    viewer: Principal,
    group: cart_lines.StoreGroup,
    at: int | None,
    form: CheckoutForm,
    *,
    problem: DomainError | None = None,
    status: int = 200,
) -> Response:
    lines = {view.line.variant_id: view.line.qty for view in group.lines}
    origin = group.store
    target = origin
    if at is not None and at != origin.id:
        try:
            chosen = await merchants_service.get_store(session, store_id=at)
        except StoreNotFound:
            chosen = origin
        target = chosen if chosen.merchant_id == origin.merchant_id else origin
    region = await regions_service.get_region(session, region_id=target.region_id)
    options: list[FulfilmentQuote] = []
    unavailable: str | None = None
    try:
        quote = await quotes.quote(
            session,
            shopper_id=viewer.user_id,
            data=QuoteRequest(
                store_id=target.id,
                lines=[LineIn(variant_id=v, qty=q) for v, q in lines.items()],
                address=form.address(),
            ),
            policy=policy_of(request),
        )
        options = [o for o in quote.options if o.reason != "fulfilment_not_offered"]
    except DomainError as exc:
        unavailable = exc.code
    choosable = [o for o in options if o.available or o.reason in FIXABLE]
    if form.fulfilment not in {o.fulfilment.value for o in choosable}:
        form.fulfilment = choosable[0].fulfilment.value if choosable else ""
    stores = await orders_queries.stores_that_can_fill(
        session,
        merchant_id=origin.merchant_id,
        lines=lines,
        lat=origin.lat,
        lng=origin.lng,
        radius_m=NEARBY_M,
    )
    locale = deps.state(request).locale
    message = None
    if problem is not None:
        message = gettext(request, CODES[problem.code]) if problem.code in CODES else None
        message = message or problem.detail
    settings = deps.settings_of(request)
    return render(
        request,
        "shopper/checkout.html",
        {
            "tab": "orders",
            "group": group,
            "store": target,
            "options": options,
            "fixable": FIXABLE,
            "unavailable": unavailable,
            "form": form,
            "problem": problem,
            "problem_field": problem.field if problem else None,
            "message": message,
            "reason_text": {code: gettext(request, text) for code, text in CODES.items()},
            "fulfilment_names": vocabulary.FULFILMENT,
            "fulfilment_hints": vocabulary.FULFILMENT_HINT,
            "when": lambda at, d=True: when.local(
                at, timezone=region.timezone, locale=locale, with_date=d
            ),
            "stores": stores,
            "map_config": {
                "tiles": settings.map_tiles_url,
                "attribution": settings.map_attribution,
                "store": {"id": target.id, "lat": target.lat, "lng": target.lng},
                "stores": [
                    {
                        "id": s.id,
                        "lat": s.lat,
                        "lng": s.lng,
                        "name": (s.name_zh if locale == "zh_CN" else "") or s.name,
                    }
                    for s in stores
                ],
                "origin": origin.id,
                "address": ({"lat": form.lat, "lng": form.lng} if form.lat is not None else None),
            },
        },
        status=status,
    )


@router.get("/checkout")
async def checkout_page(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    store: OptionalIdQuery = None,
    at: OptionalIdQuery = None,
    fulfilment: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    groups = await cart_lines.groups(session, cart_of(request, viewer.user_id))
    group = _pick_group(groups, store)
    if group is None:
        return redirect(request, "/cart")
    return await _page(request, session, viewer, group, at, CheckoutForm(fulfilment=fulfilment))


Text = Annotated[str, Form(max_length=300)]


@router.post("/checkout")
async def place(
    request: Request,
    session: SessionDep,
    viewer: UserDep,
    from_store: Annotated[int, Form(ge=1, le=2**63 - 1)],
    store_id: Annotated[int, Form(ge=1, le=2**63 - 1)],
    form_key: Annotated[str, Form(max_length=255)] = "",
    fulfilment: Annotated[str, Form(max_length=16)] = "",
    address_text: Text = "",
    address_lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    address_lng: Annotated[float | None, Form(ge=-180, le=180)] = None,
    contact_name: Annotated[str, Form(max_length=80)] = "",
    phone: Annotated[str, Form(max_length=32)] = "",
    note: Text = "",
) -> Response:
    """Place the order (one transaction, at most once per form) and start paying for it.

    The one-time key covers what the form says; the lines are the cart's. A repeat of a form
    that went through finds its outcome even though the cart has moved on."""
    cart = cart_of(request, viewer.user_id)
    group = _pick_group(await cart_lines.groups(session, cart), from_store)
    form = CheckoutForm(
        fulfilment, address_text, address_lat, address_lng, contact_name, phone, note, form_key
    )
    address = form.address()
    said = {
        "from": from_store,
        "store_id": store_id,
        "fulfilment": fulfilment,
        "address": address.model_dump(mode="json") if address else None,
        "note": note.strip(),
    }

    async def action() -> dict[str, Any]:
        if group is None:
            raise EmptyOrder("The cart has nothing from this store.", field="lines")
        data = OrderCreate(
            store_id=store_id,
            fulfilment=_fulfilment(fulfilment),
            lines=[LineIn(variant_id=v.line.variant_id, qty=v.line.qty) for v in group.lines],
            address=address,
            note=note.strip(),
        )
        orders = await placement.place_orders(
            session, shopper_id=viewer.user_id, requests=[data], policy=policy_of(request)
        )
        first = orders[0]
        if first.fulfilment == Fulfilment.RESERVE:
            return {"order_id": first.id, "next": f"/orders/{first.id}"}
        return {"order_id": first.id, "next": f"/orders/{first.id}/pay", "pay": True}

    try:
        outcome = await once.run_once(
            session,
            user_id=viewer.user_id,
            route="/checkout",
            key=form_key,
            body=said,
            action=action,
        )
    except DomainError as exc:
        if exc.status >= 500:
            raise
        # The rollback expired what was read before: read the cart's lines again.
        again = _pick_group(await cart_lines.groups(session, cart), from_store)
        if again is None:
            return redirect(request, "/cart")
        status = 409 if exc.status == 409 else 400
        return await _page(
            request, session, viewer, again, store_id, form, problem=exc, status=status
        )
    if outcome.get("pay"):  # a repeated form finds the payment it started
        await _start_paying(request, session, viewer.user_id, int(outcome["order_id"]))
    kick_relay(request)
    cart.drop_store(from_store)
    save(request, cart)
    return redirect(request, str(outcome["next"]))


async def _start_paying(
    request: Request, session: AsyncSession, shopper_id: int, order_id: int
) -> None:
    """Start paying the order just placed (committed), with the default provider; the
    provider is asked outside the placing transaction. If it cannot be asked now, the order
    stands (its stock is held) and the pay page offers to try again (or shows the order, if
    a repeated form finds it paid already)."""
    try:
        await orders_paying.start_payment(
            session,
            order_id=order_id,
            shopper_id=shopper_id,
            provider_name=providers_of(request).default,
            providers=providers_of(request),
        )
        await session.commit()
    except DomainError:
        await session.rollback()
        log.warning("could not start paying order %s", order_id, exc_info=True)


def _fulfilment(value: str) -> Fulfilment:
    try:
        return Fulfilment(value)
    except ValueError:
        raise FulfilmentNotOffered("Choose how to get the order.", field="fulfilment") from None
