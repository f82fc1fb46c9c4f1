"""The cart: add from the product page (or buy now), change quantities, remove lines."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from o2o.catalog import service as catalog_service
from o2o.http.deps import SessionDep
from o2o.inventory.schemas import MAX_QTY
from o2o.merchants import service as merchants_service
from o2o.orders.exceptions import VariantNotSoldHere
from o2o.web import cart as carts
from o2o.web import cart_lines, deps
from o2o.web.deps import UserDep, ViewerDep
from o2o.web.render import redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(deps.check_csrf)])
FormId = Annotated[int, Form(ge=1, le=2**63 - 1)]


def cart_of(request: Request, user_id: int) -> carts.Cart:
    secret = deps.settings_of(request).secret_key
    return carts.load(request.cookies.get(carts.COOKIE), secret=secret, user_id=user_id)


def save(request: Request, cart: carts.Cart) -> None:
    """Write the cart back with the response (an empty cart deletes the cookie)."""
    secret = deps.settings_of(request).secret_key
    value = carts.dump(cart, secret=secret) if cart.lines else None
    deps.state(request).cookies.append(
        deps.PendingCookie(carts.COOKIE, value, max_age=carts.MAX_AGE)
    )


@router.get("/cart")
async def cart_page(request: Request, session: SessionDep, viewer: UserDep) -> Response:
    cart = cart_of(request, viewer.user_id)
    groups = await cart_lines.groups(session, cart)
    return render(request, "shopper/cart.html", {"tab": "orders", "groups": groups})


@router.post("/cart/add")
async def add_to_cart(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    variant_id: FormId,
    store_id: FormId,
    qty: Annotated[int, Form(ge=1, le=MAX_QTY)] = 1,
    then: Annotated[str, Form(max_length=16)] = "cart",
) -> Response:
    """Add the chosen variant at the chosen store; "buy now" goes on to that store's checkout."""
    variant = await catalog_service.get_variant(session, variant_id=variant_id)
    if viewer is None:
        back = f"/products/{variant.product_id}?variant={variant.id}"
        return redirect(request, f"/login?next={quote(back, safe='')}")
    store = await merchants_service.get_store(session, store_id=store_id)
    if store.merchant_id != variant.merchant_id:
        raise VariantNotSoldHere("This store does not sell that item.", field="store_id")
    cart = cart_of(request, viewer.user_id)
    cart.add(store.id, variant.id, qty)
    save(request, cart)
    if then == "checkout":
        return redirect(request, f"/checkout?store={store.id}")
    return redirect(request, "/cart")


@router.post("/cart/update")
async def update_line(
    request: Request,
    viewer: UserDep,
    variant_id: FormId,
    store_id: FormId,
    qty: Annotated[int, Form(ge=0, le=MAX_QTY)],
) -> Response:
    """Set one line's quantity (the − and + buttons send the new number; 0 removes it)."""
    cart = cart_of(request, viewer.user_id)
    cart.set(store_id, variant_id, qty)
    save(request, cart)
    return redirect(request, "/cart")
