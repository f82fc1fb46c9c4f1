"""``o2o payments``: what operators do about payments: see failed refunds, retry one."""

from __future__ import annotations

import asyncio

import typer
from rich.table import Table

from o2o.bootstrap import payment_providers
from o2o.cli.common import console
from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.payments import refunds
from o2o.payments import service as payments_service
from o2o.payments.models import RefundStatus
from o2o.payments.schemas import RefundRead, refund_read

payments_app = typer.Typer(help="Payments and refunds: operators' actions.", no_args_is_help=True)
DatabaseOption = typer.Option(None, help="Database to use (default: O2O_DATABASE_URL).")
STYLE = {"succeeded": "green", "pending": "yellow", "failed": "red"}


def _table(title: str, rows: list[RefundRead]) -> Table:
    table = Table(title=title)
    for name in ("refund", "payment", "request no", "amount", "status", "tries"):
        # numbers an operator copies are never wrapped
        table.add_column(
            name, justify="right" if name in ("amount", "tries") else "left", no_wrap=True
        )
    table.add_column("last error", overflow="fold")
    for r in rows:
        table.add_row(
            str(r.id),
            str(r.payment_id),
            r.request_no,
            str(r.amount),
            f"[{STYLE.get(r.status, 'white')}]{r.status}[/]",
            str(r.attempts),
            r.last_error or "-",
        )
    return table


async def _failed(url: str, limit: int) -> list[RefundRead]:
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            rows = await refunds.with_status(session, status=RefundStatus.FAILED, limit=limit)
            return [refund_read(r) for r in rows]
    finally:
        await db.dispose()


@payments_app.command("failed-refunds")
def failed_refunds(
    limit: int = typer.Option(100, min=1, max=10_000, help="At most this many, oldest first."),
    database_url: str | None = DatabaseOption,
) -> None:
    """Refunds the provider refused (or never answered after every try): still owed to the
    shopper, waiting for an operator's retry."""
    rows = asyncio.run(_failed(database_url or Settings().database_url, limit))
    if not rows:
        console.print("[green]✓[/] no failed refunds")
        return
    console.print(_table(f"{len(rows)} failed refund(s)", rows))


async def _retry(settings: Settings, refund_id: int) -> tuple[RefundRead, str]:
    providers = payment_providers(settings)
    db = Database.from_url(settings.database_url)
    try:
        async with db.session() as session:
            await payments_service.retry_refund(session, refund_id=refund_id)
            await session.commit()  # pending again: the worker would make it if we stop here
        async with db.session() as session:
            attempt = await payments_service.carry_out_refund(
                session, providers=providers, refund_id=refund_id
            )
            await session.commit()
        async with db.session() as session:
            row = await payments_service.get_refund(session, refund_id=refund_id)
            return refund_read(row), attempt.error
    finally:
        await db.dispose()


@payments_app.command("retry-refund")
def retry_refund(
    refund_id: int = typer.Argument(..., min=1, help="The refund's id (see failed-refunds)."),
    database_url: str | None = DatabaseOption,
) -> None:
    """Retry a failed refund now, under its own request number (the provider makes one refund
    per number, so this never refunds twice). Exit status 1 if it is still not made."""
    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    row, error = asyncio.run(_retry(settings, refund_id))
    console.print(_table(f"refund {row.id}", [row]))
    if row.status == RefundStatus.SUCCEEDED:
        console.print(f"[green]✓[/] refund {row.id} made ({row.provider_refund_no})")
        return
    console.print(
        f"[yellow]refund {row.id} is {row.status}[/]: {error or row.last_error}"
        + (" (the worker tries again)" if row.status == RefundStatus.PENDING else "")
    )
    raise typer.Exit(code=1)
