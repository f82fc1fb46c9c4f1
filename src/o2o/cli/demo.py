"""``o2o demo`` and ``o2o seed demo``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
import uvicorn
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from o2o.bootstrap import create_app
from o2o.cli.common import console, migrate_with_status, sqlite_settings
from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.demo.seed import DEMO_LOGINS, DEMO_PASSWORD, is_seeded, seed_demo, total_steps
from o2o.sandbox import alipay as alipay_sandbox

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


PAYMENTS = ("demo", "alipay-sandbox")


def payment_settings(choice: str, data_dir: Path) -> dict[str, object]:
    """The settings ``--payments`` stands for: the demo wallet alone, or a real provider's
    protocol against its sandbox (keys made under the data directory), the wallet beside it."""
    if choice == "demo":
        return {}
    if choice == "alipay-sandbox":
        return {
            "payment_providers": ["alipay", "demo"],
            **alipay_sandbox.sandbox_settings(data_dir, app_id=alipay_sandbox.SANDBOX_APP_ID),
        }
    raise typer.BadParameter(f"use one of: {', '.join(PAYMENTS)}", param_hint="--payments")


def demo(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    data_dir: Path = typer.Option(
        Path("var/demo"), help="Where the SQLite database and uploads live."
    ),
    seed: int = typer.Option(2026, help="Random seed of the demo data."),
    payments: str = typer.Option(
        "demo",
        help="How shoppers pay: demo (the built-in wallet) or alipay-sandbox (Alipay's "
        "protocol against a simulator mounted at /sandbox/alipay, the demo wallet beside it).",
    ),
) -> None:
    """Run the demo: embedded SQLite under DATA_DIR, seeded if empty, then serve it."""
    settings = sqlite_settings(
        data_dir,
        demo_mode=True,
        base_url=f"http://{host}:{port}",
        worker_in_process=True,
        **payment_settings(payments, data_dir),
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
    console.print(f"[bold]Open http://{host}:{port}/[/]  (Ctrl+C to stop)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
