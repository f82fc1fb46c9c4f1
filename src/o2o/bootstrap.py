"""``create_app``: the one place that wires settings, database, domains, API and pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from o2o import __version__
from o2o.api import errors as api_errors
from o2o.api.routes import (
    admin,
    auth,
    catalog,
    health,
    live,
    media,
    merchants,
    regions,
    stock,
    stores,
)
from o2o.core.broker import Broker, create_broker
from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.core.storage import LocalStorage
from o2o.web import setup as web_setup

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    broker: Broker | None = None,
) -> FastAPI:
    """Build the ASGI app. Tests pass their own ``database`` (bound to a test transaction)."""
    settings = settings or Settings()
    owns_database = database is None
    db = database or Database.from_url(settings.database_url, echo=settings.sql_echo)
    realtime = broker or create_broker(settings.redis_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await realtime.close()
        if owns_database:
            await db.dispose()

    app = FastAPI(
        title="O2O",
        version=__version__,
        summary="Nearby stores, live stock, pickup, delivery, vouchers and bookings.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = db
    app.state.broker = realtime
    app.state.storage = LocalStorage(settings.media_dir)
    api_errors.install(app)
    app.include_router(health.router)

    app.include_router(media.router)
    for module in (auth, regions, stores, merchants, catalog, admin, live, stock):
        app.include_router(module.router, prefix=API_PREFIX)
    web_setup.install(app)
    return app
