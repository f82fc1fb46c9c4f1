"""``o2o demo`` and ``o2o seed demo``."""

from __future__ import annotations

import asyncio
import enum
from pathlib import Path

import typer
import uvicorn
from fastapi import FastAPI
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from o2o.bootstrap import create_app, payment_providers
from o2o.cli.common import console, migrate_with_status, sqlite_settings
from o2o.core.broker import create_broker
from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.delivery import policy as courier_policy
from o2o.demo.seed import DEMO_LOGINS, DEMO_PASSWORD, is_seeded, seed_demo, total_steps
from o2o.demo.simulation import load as load_simulation
from o2o.sandbox import alipay as alipay_sandbox
from o2o.sandbox.routing import HostRouter
from o2o.sandbox.wechat import demo as wechat_sandbox

seed_app = typer.Typer(help="Load data into the database.", no_args_is_help=True)


async def _seed(settings: Settings, *, seed: int) -> bool:
    db = Database.from_url(settings.database_url)
    try:
        async with db.session() as session:
            if await is_seeded(session):
                return False
            with Progress(
                TextColumn("[bold]Seeding the demo city[/] {task.fields[step]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as bar:
                task = bar.add_task("seed", total=total_steps(), step="")
                await seed_demo(
                    session,
                    seed=seed,
                    progress=lambda step, n: bar.update(task, advance=n, step=step),
                )
            await session.commit()
            return True
    finally:
        await db.dispose()


def print_logins() -> None:
    table = Table(title="Demo logins (password: " + DEMO_PASSWORD + ")")
    table.add_column("login")
    table.add_column("who")
    for email, _name, what in DEMO_LOGINS:
        table.add_row(email, what)
    console.print(table)


@seed_app.command("demo")
def seed_demo_command(
    seed: int = typer.Option(2026, help="Random seed (same seed, same data)."),
) -> None:
    """Seed the demo cities into the database of O2O_DATABASE_URL (if it is empty)."""
    settings = Settings()
    migrate_with_status(settings)
    if asyncio.run(_seed(settings, seed=seed)):
        console.print("[green]✓[/] demo data seeded")
        print_logins()
    else:
        console.print("The database already has data; nothing seeded.")


class Payments(enum.StrEnum):
    """Providers the demo can take payments through, each against its simulator."""

    DEMO = "demo"
    ALIPAY_SANDBOX = "alipay-sandbox"
    WECHAT_SANDBOX = "wechat-sandbox"


def start_sandboxes(
    payments: list[Payments], *, data_dir: Path, base_url: str
) -> list[wechat_sandbox.WechatSandbox]:
    """The chosen simulators that run beside the app, their keys kept under DATA_DIR/sandbox
    (made on first use). Alipay's is mounted by the app itself (``alipay_sandbox``)."""
    starters = {Payments.WECHAT_SANDBOX: (wechat_sandbox.start, "wechat")}
    return [
        starters[choice][0](data_dir / "sandbox" / starters[choice][1], base_url=base_url)
        for choice in dict.fromkeys(payments)
        if choice in starters
    ]


def demo_settings(
    data_dir: Path,
    *,
    base_url: str,
    sandboxes: list[wechat_sandbox.WechatSandbox],
    alipay: bool = False,
    fleet: bool = True,
    speedup: float = 3.0,
) -> Settings:
    overrides: dict[str, object] = {}
    providers: list[str] = []
    if alipay:
        overrides.update(
            alipay_sandbox.sandbox_settings(data_dir, app_id=alipay_sandbox.SANDBOX_APP_ID)
        )
        providers.append("alipay")
    for sandbox in sandboxes:
        overrides.update(sandbox.settings())
        providers.append(sandbox.provider)
    return sqlite_settings(
        data_dir,
        demo_mode=True,
        base_url=base_url,
        worker_in_process=True,
        demo_fleet=fleet,
        demo_speedup=speedup,
        # rounds often enough that a sped-up fleet does not wait long for its next order
        dispatch_round_seconds=10,
        # the sandboxed providers first (the pages offer them first), the demo wallet too
        payment_providers=[*providers, "demo"],
        **overrides,
    )


def demo_app(
    settings: Settings,
    sandboxes: list[wechat_sandbox.WechatSandbox],
    *,
    database: Database | None = None,
) -> FastAPI:
    """The demo's app, its payment providers' calls routed to their simulators in-process and
    the simulators' pages mounted in it."""
    router = HostRouter({s.host: s.transport for s in sandboxes}) if sandboxes else None
    app = create_app(settings, database=database, payment_transport=router)
    for sandbox in sandboxes:
        sandbox.attach(app)
    return app


def demo(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    data_dir: Path = typer.Option(
        Path("var/demo"), help="Where the SQLite database and uploads live."
    ),
    seed: int = typer.Option(2026, help="Random seed of the demo data."),
    payments: list[Payments] = typer.Option(
        [],
        "--payments",
        help="Also take payments through a provider against its simulator: alipay-sandbox "
        "or wechat-sandbox (repeat for several). The demo wallet is always there.",
    ),
    fleet: bool = typer.Option(
        True,
        "--fleet/--no-fleet",
        help="Run the simulated couriers and store staff (on by default).",
    ),
    speedup: float = typer.Option(
        3.0, min=0.1, max=100, help="How many times faster than real life the fleet moves."
    ),
) -> None:
    """Run the demo: embedded SQLite under DATA_DIR, seeded if empty, then serve it."""
    base_url = f"http://{host}:{port}"
    sandboxes = start_sandboxes(payments, data_dir=data_dir, base_url=base_url)
    settings = demo_settings(
        data_dir,
        base_url=base_url,
        sandboxes=sandboxes,
        alipay=Payments.ALIPAY_SANDBOX in payments,
        fleet=fleet,
        speedup=speedup,
    )
    migrate_with_status(settings)
    if asyncio.run(_seed(settings, seed=seed)):
        console.print("[green]✓[/] demo data seeded")
    print_logins()
    if settings.alipay_sandbox:
        console.print(
            "Alipay sandbox: pay with Alipay, then open the code's link (the wallet) and pay; "
            f"keys in {data_dir / alipay_sandbox.SANDBOX_DIR}"
        )
    for sandbox in sandboxes:
        console.print(
            f"[bold]{sandbox.title}[/] sandbox: wallet pages under {base_url}{sandbox.mount}"
        )
    if fleet:
        console.print(
            f"Simulated couriers and store staff are running ({speedup:g}× speed); "
            "clerk@demo.o2o's two stores and courier@demo.o2o are yours to play."
        )
    console.print(f"[bold]Open http://{host}:{port}/[/]  (Ctrl+C to stop)")
    uvicorn.run(demo_app(settings, sandboxes), host=host, port=port, log_level="info")


def fleet_command(
    speedup: float = typer.Option(
        3.0, min=0.1, max=100, help="How many times faster than real life the fleet moves."
    ),
) -> None:
    """Run the demo's simulated couriers and store staff against the database of
    O2O_DATABASE_URL (a demo-seeded one), beside a server; with O2O_REDIS_URL the server's
    trackers hear them move."""
    asyncio.run(_fleet(Settings(), speedup=speedup))


async def _fleet(settings: Settings, *, speedup: float) -> None:
    db = Database.from_url(settings.database_url)
    broker = create_broker(settings.redis_url)
    stop = asyncio.Event()
    try:
        simulation = await load_simulation(
            db,
            broker=broker,
            policy=courier_policy.from_settings(settings),
            providers=payment_providers(settings),
            speedup=speedup,
        )
        console.print(f"{len(simulation.fleet.riders)} riders on the road (Ctrl+C to stop)")
        await simulation.run(stop)
    finally:
        await broker.close()
        await db.dispose()
