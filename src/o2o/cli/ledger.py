"""``o2o ledger``: check that the money ledger balances and reconciles; print a statement."""

from __future__ import annotations

import asyncio
import sys
from datetime import date

import typer
from rich.table import Table

from o2o.bootstrap import payment_providers
from o2o.cli.common import console
from o2o.core.db import Database
from o2o.core.errors import DomainError
from o2o.core.settings import Settings
from o2o.ledger import audit
from o2o.ledger.audit import Difference
from o2o.ledger.queries import statements
from o2o.merchants import service as merchants_service
from o2o.orders import ledger_check, reconciliation
from o2o.orders.reconcile_compare import Report, Totals
from o2o.orders.reconcile_read import report_csv, to_read
from o2o.payments.exceptions import ProviderMisconfigured

ledger_app = typer.Typer(help="The money ledger: checks and statements.", no_args_is_help=True)
DatabaseOption = typer.Option(None, help="Database to read (default: O2O_DATABASE_URL).")


async def _differences(url: str) -> tuple[int, list[Difference]]:
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            found = await ledger_check.differences(session)
            journals = await audit.journal_count(session)
            return journals, found
    finally:
        await db.dispose()


@ledger_app.command("check")
def check(database_url: str | None = DatabaseOption) -> None:
    """Every journal balances in each currency and the ledger sums to zero; money into
    clearing matches the captured payments, money out matches the refunds, and every order
    paid online is in it with its total and its refunds. Exit status 1 lists each difference."""
    journals, found = asyncio.run(_differences(database_url or Settings().database_url))
    if not found:
        console.print(
            f"[green]✓[/] the ledger balances and reconciles ({journals} journals checked)"
        )
        return
    table = Table(title=f"{len(found)} difference(s) between the ledger and the records")
    table.add_column("what")
    table.add_column("about")
    table.add_column("expected", justify="right")
    table.add_column("in the ledger", justify="right")
    table.add_column("")
    for d in found:
        table.add_row(
            d.kind,
            d.subject,
            "-" if d.expected is None else str(d.expected),
            "-" if d.found is None else str(d.found),
            d.detail,
        )
    console.print(table)
    raise typer.Exit(code=1)


async def _statement(url: str, merchant_id: int, day: date) -> statements.Statement:
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            await merchants_service.get_merchant(session, merchant_id=merchant_id)
            return await statements.statement(session, merchant_id=merchant_id, day=day)
    finally:
        await db.dispose()


@ledger_app.command("statement")
def statement(
    merchant: int = typer.Option(..., "--merchant", min=1, help="The merchant's id."),
    day: str = typer.Option(..., "--date", help="The day, YYYY-MM-DD (the region's local date)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV instead of a table."),
    database_url: str | None = DatabaseOption,
) -> None:
    """A merchant's settlement statement for one day."""
    try:
        when = date.fromisoformat(day)
    except ValueError as exc:
        raise typer.BadParameter("expected a date as YYYY-MM-DD", param_hint="--date") from exc
    found = asyncio.run(_statement(database_url or Settings().database_url, merchant, when))
    if as_csv:
        sys.stdout.write(statements.statement_csv(found))
        return
    table = Table(title=f"Merchant {merchant} · {when.isoformat()}")
    for column in ("kind", "time", "order"):
        table.add_column(column)
    for column in ("amount", "commission", "net"):
        table.add_column(column, justify="right")
    table.add_column("note")
    for line in found.lines:
        sign = 1 if line.kind == "sale" else -1
        table.add_row(
            line.kind,
            line.local_time.strftime("%H:%M"),
            str(line.order_id),
            statements.major(sign * line.amount, line.currency),
            statements.major(sign * line.commission, line.currency),
            statements.major(sign * line.net, line.currency),
            line.memo,
        )
    console.print(table)
    if not found.totals:
        console.print("Nothing was sold or refunded on this day.")
    for t in found.totals:
        console.print(
            f"{t.currency}: {t.orders} orders · sales {statements.major(t.gross_sales, t.currency)}"
            f" · refunds {statements.major(t.refunds, t.currency)}"
            f" · commission {statements.major(t.commission - t.commission_reversed, t.currency)}"
            f" · [bold]net payable {statements.major(t.net_payable, t.currency)}[/]"
        )


async def _reconcile(settings: Settings, provider: str, day: date) -> Report:
    providers = payment_providers(settings)
    chosen = reconciliation.provider_named(providers, provider)
    db = Database.from_url(settings.database_url)
    try:
        async with db.session() as session:
            return await reconciliation.reconcile(session, provider=chosen, day=day)
    finally:
        await db.dispose()


def _side(name: str, totals: dict[str, Totals]) -> str:
    if not totals:
        return f"{name}: nothing"
    return f"{name}: " + "; ".join(
        f"{t.payments} payments {statements.major(t.payments_amount, t.currency)}"
        f" · {t.refunds} refunds {statements.major(t.refunds_amount, t.currency)}"
        f" · net {statements.major(t.net, t.currency)} {t.currency}"
        for t in totals.values()
    )


@ledger_app.command("reconcile")
def reconcile(
    provider: str = typer.Option(..., "--provider", help="demo, alipay or wechat."),
    day: str = typer.Option(
        ...,
        "--date",
        help="The provider's statement day, YYYY-MM-DD (China time for Alipay "
        "and WeChat Pay, UTC for the demo wallet).",
    ),
    as_csv: bool = typer.Option(False, "--csv", help="Print the differences as CSV."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole report as JSON."),
    database_url: str | None = DatabaseOption,
) -> None:
    """Our captures and refunds of one provider and day against the provider's bill: each
    difference, the matches, and both sides' totals. Exit status 1 when anything differs."""
    try:
        when = date.fromisoformat(day)
    except ValueError as exc:
        raise typer.BadParameter("expected a date as YYYY-MM-DD", param_hint="--date") from exc
    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    try:
        found = asyncio.run(_reconcile(settings, provider, when))
    except DomainError as exc:
        console.print(f"[red]✗[/] {exc.detail}")
        raise typer.Exit(code=2) from exc
    except ProviderMisconfigured as exc:
        console.print(f"[red]✗[/] {exc}")
        raise typer.Exit(code=2) from exc
    if as_json:
        sys.stdout.write(to_read(found).model_dump_json(indent=2) + "\n")
    elif as_csv:
        sys.stdout.write(report_csv(found))
    else:
        _print_report(found)
    if found.differences:
        raise typer.Exit(code=1)


def _print_report(found: Report) -> None:
    span = f"{found.start:%Y-%m-%d %H:%M}–{found.end:%Y-%m-%d %H:%M} UTC"
    title = f"{found.provider} · {found.day.isoformat()} ({found.timezone}; {span})"
    if found.differences:
        table = Table(title=f"{title}: {len(found.differences)} difference(s)")
        table.add_column("difference", no_wrap=True)
        table.add_column("about")
        table.add_column("ours", justify="right")
        table.add_column("provider's", justify="right")
        table.add_column("")
        for d in found.differences:
            about = f"payment {d.payment_id}"
            if d.movement == "refund":
                about = f"refund {d.request_no or '?'} of {about}"
            table.add_row(
                d.kind.value,
                about,
                "-" if d.ours is None else statements.major(d.ours, d.currency),
                "-" if d.theirs is None else statements.major(d.theirs, d.currency),
                " ".join(x for x in (d.currency, d.ours_status or "", d.detail) if x),
            )
        console.print(table)
    else:
        console.print(f"[green]✓[/] {title}: our books and the bill agree")
    console.print(f"matched: {found.matched}")
    console.print(_side("our books", found.ours))
    console.print(_side("the bill", found.theirs))
