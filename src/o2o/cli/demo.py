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


def demo(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    data_dir: Path = typer.Option(
        Path("var/demo"), help="Where the SQLite database and uploads live."
    ),
    seed: int = typer.Option(2026, help="Random seed of the demo data."),
) -> None:
    """Run the demo: embedded SQLite under DATA_DIR, seeded if empty, then serve it."""
    settings = sqlite_settings(
        data_dir, demo_mode=True, base_url=f"http://{host}:{port}", worker_in_process=True
    )
    migrate_with_status(settings)
    if asyncio.run(_seed(settings, seed=seed)):
        console.print("[green]✓[/] demo data seeded")
    print_logins()
    console.print(f"[bold]Open http://{host}:{port}/[/]  (Ctrl+C to stop)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
