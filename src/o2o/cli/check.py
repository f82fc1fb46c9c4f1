"""``o2o check``: consistency checks over a live database."""

from __future__ import annotations

import asyncio

import typer
from rich.table import Table

from o2o.cli.common import console
from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.inventory import queries as inventory_queries

check_app = typer.Typer(help="Check the database's invariants.", no_args_is_help=True)


async def _discrepancies(url: str) -> list[inventory_queries.LedgerDiscrepancy]:
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            return await inventory_queries.ledger_discrepancies(session)
    finally:
        await db.dispose()


@check_app.command("stock")
def stock(
    database_url: str | None = typer.Option(
        None, help="Database to check (default: O2O_DATABASE_URL)."
    ),
) -> None:
    """Every stock row equals the sum of its ledger and its latest movement's result."""
    url = database_url or Settings().database_url
    found = asyncio.run(_discrepancies(url))
    if not found:
        console.print("[green]✓[/] every stock level matches its ledger")
        return
    table = Table(title=f"{len(found)} stock level(s) disagree with the ledger")
    for column in ("store", "variant", "on hand", "ledger sum", "latest on_hand_after"):
        table.add_column(column, justify="right")
    for d in found:
        table.add_row(
            str(d.store_id),
            str(d.variant_id),
            "(no row)" if d.on_hand is None else str(d.on_hand),
            str(d.ledger_sum),
            "-" if d.last_on_hand_after is None else str(d.last_on_hand_after),
        )
    console.print(table)
    raise typer.Exit(code=1)
