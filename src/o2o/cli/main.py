"""The ``o2o`` command."""

from __future__ import annotations

import typer

from o2o.cli import bench, check, demo, ledger, payments, run, worker
from o2o.cli.common import console
from o2o.core.errors import DomainError
from o2o.payments.exceptions import ProviderMisconfigured

app = typer.Typer(
    help="O2O: nearby stores, live stock, pickup, delivery, vouchers, bookings.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command("demo")(demo.demo)
app.command("fleet")(demo.fleet_command)
app.command("serve")(run.serve)
app.command("migrate")(run.migrate)
app.command("worker")(worker.worker)
app.add_typer(demo.seed_app, name="seed")
app.add_typer(bench.bench_app, name="bench")
app.add_typer(check.check_app, name="check")
app.add_typer(ledger.ledger_app, name="ledger")
app.add_typer(payments.payments_app, name="payments")


def main() -> None:
    """Entry point: domain errors and misconfiguration become a one-line message and exit
    status 2, not a traceback."""
    try:
        app()
    except DomainError as exc:
        console.print(f"[red]error[/] ({exc.code}): {exc.detail}")
        raise SystemExit(2) from exc
    except ProviderMisconfigured as exc:
        console.print(f"[red]error[/] (misconfigured): {exc}")
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
