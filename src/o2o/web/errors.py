"""Errors on pages: a friendly page in the visitor's language instead of problem+json.

The API's handlers stay in charge of ``/api`` (and anything that is not a page); these wrap
them and answer page requests with HTML. A page that needs a login redirects to it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from o2o.core.errors import DomainError
from o2o.web import deps
from o2o.web.render import gettext, redirect, render

log = logging.getLogger("o2o.web")
Handler = Callable[[Request, Any], Awaitable[Response]]


def N_(message: str) -> str:  # noqa: N802 (the gettext convention for "translate later")
    return message


TITLES = {
    400: N_("That request could not be understood"),
    401: N_("Please log in"),
    403: N_("You don't have access to this"),
    404: N_("We couldn't find that page"),
    405: N_("That action is not available here"),
    409: N_("That change clashes with the current state"),
    413: N_("That upload is too large"),
    422: N_("Some of what was entered is not valid"),
    500: N_("Something went wrong on our side"),
}
HINTS = {
    400: N_("Check the address or go back and try again."),
    403: N_("Log in with an account that may open it, or go back."),
    404: N_("The link may be old. Start again from the home page."),
    405: N_("Go back and use the buttons on the page."),
    409: N_("Reload the page to see the latest data, then try again."),
    413: N_("Split the file into smaller ones and upload them one by one."),
    422: N_("Correct the highlighted input and send it again."),
    500: N_("It has been logged. Try again in a moment."),
}
# Messages for the domain errors pages run into, so they read well in every language.
CODES = {
    "invalid_credentials": N_("The login or password is wrong."),
    "not_allowed": N_("Your account may not open this."),
    "store_not_found": N_("There is no such store."),
    "unknown_region": N_("There is no such city."),
    "unknown_category": N_("There is no such category."),
    "invalid_cursor": N_("That page of results has expired; start the search again."),
    "invalid_quantity": N_("Enter a whole number from 0 to 1,000,000."),
    "below_reserved": N_("Some units are reserved for orders; on hand cannot go below that."),
    "provider_unavailable": N_(
        "The payment service cannot be reached; nothing was charged. Try again in a moment."
    ),
    "provider_answer_invalid": N_(
        "The payment service's answer could not be trusted; nothing was charged. Try again."
    ),
    "provider_refused": N_("The payment service refused this payment; try another way to pay."),
    "unknown_provider": N_("That way of paying is not offered here."),
    "csrf_failed": N_(
        "This form has expired or came from another site. Reload the page and send it again."
    ),
}


def is_page(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith(("/api/", "/static/")) or path in ("/api", "/healthz"))


def error_page(
    request: Request, status: int, *, code: str | None = None, detail: str | None = None
) -> Response:
    title = gettext(request, TITLES.get(status, TITLES[400 if status < 500 else 500]))
    hint = gettext(request, HINTS.get(status, HINTS[400 if status < 500 else 500]))
    message = gettext(request, CODES[code]) if code in CODES else None
    if message is None and detail and deps.state(request).locale == "en":
        message = detail
    template = "fragments/error.html" if request.headers.get("hx-request") else "error.html"
    return render(
        request,
        template,
        {"status": status, "title": title, "message": message, "hint": hint, "code": code},
        status=status,
    )


def install(app: FastAPI) -> None:
    """Wrap the API's exception handlers so page requests get pages."""
    api: dict[Any, Handler] = dict(app.exception_handlers)

    def wrap(kind: Any, page: Handler) -> None:
        fallback = api.get(kind)

        async def handler(request: Request, exc: Any) -> Response:
            if is_page(request) or fallback is None:
                return await page(request, exc)
            return await fallback(request, exc)

        app.add_exception_handler(kind, handler)

    async def on_domain(request: Request, exc: DomainError) -> Response:
        if exc.status == 401:
            return _to_login(request)
        return error_page(request, exc.status, code=exc.code, detail=exc.detail)

    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else None
        return error_page(request, exc.status_code, detail=detail)

    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        fields = sorted({str(e.get("loc", ("?",))[-1]) for e in exc.errors()})
        return error_page(request, 422, detail="Check: " + ", ".join(fields))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_page(request, 500)

    async def on_login_required(request: Request, _exc: Exception) -> Response:
        return _to_login(request)

    async def on_csrf(request: Request, _exc: Exception) -> Response:
        return error_page(request, 403, code="csrf_failed")

    wrap(DomainError, on_domain)
    wrap(StarletteHTTPException, on_http)
    wrap(RequestValidationError, on_validation)
    wrap(Exception, on_unexpected)
    app.add_exception_handler(deps.LoginRequired, on_login_required)
    app.add_exception_handler(deps.CsrfRejected, on_csrf)


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    return redirect(request, f"/login?next={quote(target, safe='')}")


# Problems of checkout, orders and paying, as a shopper should read them.
CODES.update(
    {
        "insufficient_stock": N_(
            "The store no longer has enough of an item. Lower the quantity or choose another store."
        ),
        "outside_delivery_radius": N_(
            "That address is outside this store's delivery area. Choose a nearer store, or pick up."
        ),
        "delivery_area_reduced": N_(
            "Couriers are busy: right now this store delivers only to nearer addresses in time. "
            "Pick up, choose a nearer store, or try again in a little while."
        ),
        "store_closed": N_(
            "The store is closed now, so it cannot deliver. Pick up later, or choose a store "
            "that is open."
        ),
        "address_required": N_("Enter the address and tap its place on the map."),
        "pickup_window_invalid": N_(
            "The store cannot have it ready in time (it may be closed). Choose another store."
        ),
        "fulfilment_not_offered": N_("This store does not offer that. Choose another option."),
        "store_unavailable": N_("This store is not taking orders now. Choose another store."),
        "variant_not_sold_here": N_("This store does not sell one of the items."),
        "no_shipping_source": N_("No store or warehouse can ship these items now."),
        "empty_order": N_("Your cart is empty."),
        "variant_not_found": N_("One of the items is no longer sold."),
        "order_not_found": N_("There is no such order."),
        "order_not_payable": N_(
            "This order cannot be paid now: it is paid already, or the time to pay ran out."
        ),
        "invalid_transition": N_(
            "The store has started on this order, so it can no longer be cancelled online. "
            "Ask the store."
        ),
        "order_changed": N_("The order changed meanwhile. Reload the page and try again."),
        "payment_not_found": N_("This payment link is not valid."),
        "wallet_refused": N_("This payment was closed. Go back to the order and pay again."),
        "unknown_provider": N_("This way of paying is not available."),
        "idempotency_in_flight": N_("Your order is being placed. Wait a moment."),
        "idempotency_key_reused": N_(
            "This checkout was already sent. See your orders, or reload the page to start again."
        ),
        "idempotency_key_required": N_("This form has expired. Reload the page and send it again."),
    }
)
