"""Helpers shared by CLI commands: settings, migrations, a console."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from o2o.core.migrate import upgrade
from o2o.core.settings import Settings

console = Console()


def sqlite_settings(data_dir: Path, **overrides: object) -> Settings:
    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{(data_dir / 'o2o.db').resolve()}"
    return Settings(database_url=url, data_dir=data_dir, **overrides)  # type: ignore[arg-type]


def migrate_with_status(settings: Settings) -> None:
    with console.status("Migrating the database…"):
        upgrade(settings.database_url)
    console.print("[green]✓[/] database schema is up to date")
