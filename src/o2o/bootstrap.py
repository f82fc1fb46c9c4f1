"""``create_app``: the one place that wires settings, database, domains, API and pages."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from o2o import __version__
from o2o.accounts.principal_cache import PrincipalCache
from o2o.api import errors as api_errors
from o2o.api.routes import (
    admin,
    auth,
    catalog,
    couriers,
    dispatch,
    health,
    live,
    media,
    merchants,
    my_payments,
    notifications,
    orders,
    payments,
    reconciliation,
    refunds,
    regions,
    returns,
    settlements,
    stock,
    store_orders,
    stores,
    webhooks,
)
from o2o.core.broker import Broker, create_broker
from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.core.storage import LocalStorage
from o2o.delivery import outlook as delivery_outlook
from o2o.delivery import policy as courier_policy
from o2o.demo import simulation as demo_simulation
from o2o.orders.policy import OrderPolicy
from o2o.payments import wechat
from o2o.payments.alipay import AlipayProvider
from o2o.payments.demo_wallet import DemoWallet
from o2o.payments.exceptions import ProviderMisconfigured
from o2o.payments.providers import PaymentProvider
from o2o.payments.service import Providers
from o2o.payments.wechat import WechatPayProvider
from o2o.sandbox.alipay import SANDBOX_DIR, AlipaySandbox
from o2o.web import setup as web_setup
from o2o.worker import handlers as worker_handlers
from o2o.worker.relay import Relay

API_PREFIX = "/api/v1"
ALIPAY_SANDBOX_PATH = "/sandbox/alipay"


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    broker: Broker | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    payment_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the ASGI app. Tests pass their own ``database`` (bound to a test transaction)
    and may pass the transport merchants' webhooks are sent through (a fake receiver) and
    the one payment providers' gateways are reached through (simulators, in the sandbox)."""
    settings = settings or Settings()
    owns_database = database is None
    db = database or Database.from_url(settings.database_url, echo=settings.sql_echo)
    realtime = broker or create_broker(settings.redis_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop)) if settings.worker_in_process else None
        fleet = asyncio.create_task(run_fleet(app, stop)) if settings.demo_fleet else None
        yield
        stop.set()
        for running in (task, fleet):
            if running is not None:
                with contextlib.suppress(Exception):
                    await running
        if sandbox is not None:  # notifications it is still retrying
            await sandbox.aclose()
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
        **_telemetry(settings),
    )
    app.state.settings = settings
    app.state.database = db
    app.state.broker = realtime
    app.state.storage = LocalStorage(settings.media_dir)
    app.state.principal_cache = PrincipalCache(settings.principal_cache_seconds)
    app.state.order_policy = order_policy(settings)
    app.state.courier_policy = courier_policy.from_settings(settings)
    sandbox = mount_alipay_sandbox(app, settings)
    app.state.payment_providers = payment_providers(
        settings, alipay_sandbox=sandbox, transport=payment_transport
    )
    relay = create_relay(
        settings, db=db, broker=realtime, app=app, webhook_transport=webhook_transport
    )
    app.state.relay = relay
    api_errors.install(app)
    app.include_router(health.router)

    app.include_router(media.router)
    for module in (
        auth,
        regions,
        stores,
        merchants,
        catalog,
        admin,
        live,
        stock,
        orders,
        my_payments,
        payments,
        returns,  # before store_orders: /orders/lookup is not an order id
        couriers,
        dispatch,
        store_orders,
        settlements,
        reconciliation,
        refunds,
        notifications,
        webhooks,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    # The couriers' positions, the hottest write, are matched first and served lean.
    app.router.routes.insert(0, couriers.PositionsLane(API_PREFIX + couriers.POSITIONS))
    web_setup.install(app)
    return app


async def run_fleet(app: FastAPI, stop: asyncio.Event) -> None:
    """The demo's simulated couriers and store staff, in this process until ``stop``."""
    settings: Settings = app.state.settings
    relay: Relay = app.state.relay
    simulation = await demo_simulation.load(
        app.state.database,
        broker=app.state.broker,
        policy=app.state.courier_policy,
        providers=app.state.payment_providers,
        speedup=settings.demo_speedup,
        kick=relay.kick,
    )
    await simulation.run(stop)


def order_policy(settings: Settings) -> OrderPolicy:
    return OrderPolicy(
        reservation_ttl=timedelta(minutes=settings.reservation_ttl_minutes),
        pickup_grace=timedelta(minutes=settings.pickup_grace_minutes),
        return_window=timedelta(days=settings.return_window_days),
        commission_bps_default=settings.commission_bps_default,
        delivery_outlook=delivery_outlook.source(courier_policy.from_settings(settings)),
    )


def payment_providers(
    settings: Settings,
    *,
    alipay_sandbox: AlipaySandbox | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Providers:
    """The providers named in ``settings.payment_providers``, in that order (the first is the
    default). One enabled but misconfigured stops start-up here (``ProviderMisconfigured`` says
    what to set), not at the first payment. ``transport``: how WeChat Pay's gateway is reached
    (None: the network); Alipay's is its sandbox's when ``settings.alipay_sandbox``."""
    build: dict[str, Callable[[], PaymentProvider]] = {
        "demo": lambda: DemoWallet(secret=settings.secret_key, base_url=settings.base_url),
        "alipay": lambda: alipay_provider(settings, alipay_sandbox),
        wechat.NAME: lambda: WechatPayProvider(wechat.from_settings(settings), transport=transport),
    }
    names = list(dict.fromkeys(settings.payment_providers))
    unknown = [name for name in names if name not in build]
    if unknown or not names:
        raise ProviderMisconfigured(
            f"O2O_PAYMENT_PROVIDERS must name at least one of {', '.join(build)}; "
            f"{', '.join(unknown) or 'it is empty'} is not a provider."
        )
    return Providers(*(build[name]() for name in names), trade_no_prefix=settings.trade_no_prefix)


def alipay_provider(settings: Settings, sandbox: AlipaySandbox | None) -> AlipayProvider:
    """Alipay as configured; with ``alipay_sandbox``, its gateway is the sandbox's (in process
    when the sandbox is mounted in this app, else over HTTP at the base URL)."""
    if not settings.alipay_sandbox:
        return AlipayProvider.from_settings(settings)
    gateway = f"{settings.base_url.rstrip('/')}{ALIPAY_SANDBOX_PATH}/gateway.do"
    transport = sandbox.transport() if sandbox is not None else None
    return AlipayProvider.from_settings(settings, gateway=gateway, transport=transport)


def mount_alipay_sandbox(app: FastAPI, settings: Settings) -> AlipaySandbox | None:
    """The demo's Alipay simulator at /sandbox/alipay (``settings.alipay_sandbox``), with the
    keys under the data directory; it notifies this app in process."""
    if not settings.alipay_sandbox or "alipay" not in settings.payment_providers:
        return None
    keys = settings.data_dir / SANDBOX_DIR
    try:
        sandbox = AlipaySandbox.from_dir(
            keys,
            base_url=f"{settings.base_url.rstrip('/')}{ALIPAY_SANDBOX_PATH}",
            app_id=settings.alipay_app_id,
            notify_transport=httpx.ASGITransport(app=app),
        )
    except (OSError, ValueError) as exc:
        raise ProviderMisconfigured(
            f"O2O_ALIPAY_SANDBOX is on but the sandbox's keys in {keys} cannot be read "
            f"({exc}); `o2o demo --payments alipay-sandbox` makes them."
        ) from exc
    app.mount(ALIPAY_SANDBOX_PATH, sandbox.app)
    app.state.alipay_sandbox = sandbox
    return sandbox


def create_relay(
    settings: Settings,
    *,
    db: Database,
    broker: Broker,
    app: FastAPI | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
) -> Relay:
    """The outbox relay and timers. With ``app``, providers' notifications (the demo wallet's)
    are delivered to that app in process; without, over HTTP to ``settings.base_url``.
    Merchants' webhooks go out through ``webhook_transport`` (None: the network)."""

    async def deliver(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        transport = httpx.ASGITransport(app=app) if app is not None else None
        base = "http://o2o.internal" if app is not None else settings.base_url
        async with httpx.AsyncClient(transport=transport, base_url=base, timeout=10) as client:
            response = await client.post(path, content=body, headers=headers)
        return response.status_code, response.text

    wiring = worker_handlers.Wiring(
        db=db,
        broker=broker,
        providers=app.state.payment_providers if app is not None else payment_providers(settings),
        policy=order_policy(settings),
        deliver=deliver,
        webhook_transport=webhook_transport,
        webhooks_allow_private=settings.webhooks_allow_private,
        courier_policy=courier_policy.from_settings(settings),
    )
    return Relay(db, worker_handlers.handlers(wiring), worker_handlers.timers(wiring))


def _telemetry(settings: Settings) -> dict[str, Any]:
    """FastAPI's own OpenTelemetry as the settings want it (versions without it: nothing)."""
    if settings.telemetry or "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
