"""``o2o serve`` and ``o2o migrate``."""

from __future__ import annotations

import typer
import uvicorn

from o2o.bootstrap import create_app
from o2o.cli.common import console, migrate_with_status
from o2o.core.settings import Settings


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes (uvicorn)."),
) -> None:
    """Serve the API and pages with the settings from the environment (O2O_*)."""
    settings = Settings()
    if workers > 1:
        uvicorn.run(
            "o2o.cli.run:app_factory",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
        )
        return
    console.print(f"Serving on http://{host}:{port}  (database: {settings.database_url})")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


def app_factory() -> object:
    return create_app(Settings())


def migrate() -> None:
    """Apply database migrations (O2O_DATABASE_URL)."""
    migrate_with_status(Settings())
