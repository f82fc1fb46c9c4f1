"""Wire the pages into the app: templates and catalogs, static files, routes, error pages."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from o2o.web import errors, i18n
from o2o.web.render import STATIC_DIR, Pages
from o2o.web.routes import (
    account,
    cart,
    catalog,
    checkout,
    courier,
    dispatch,
    merchant,
    merchant_orders,
    merchant_returns,
    my_payments,
    notifications,
    orders,
    products,
    reconciliation,
    settlements,
    shopper,
    stock,
    wallet,
)


def install(app: FastAPI) -> None:
    """Call after the API's error handlers are installed: page errors wrap them."""
    app.state.pages = Pages(i18n.load_translations())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (
        shopper,
        products,
        cart,
        checkout,
        orders,
        my_payments,
        wallet,
        account,
        notifications,
        merchant,
        stock,
        catalog,
        merchant_orders,
        merchant_returns,
        settlements,
        courier,
        reconciliation,
        dispatch,
    ):
        app.include_router(module.router)
    errors.install(app)
