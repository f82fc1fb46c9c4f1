"""``o2o bench …``: benchmarks (see docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from o2o.bench.geo import Options, run
from o2o.bench.geo_data import Scale
from o2o.bench.geo_report import markdown, targets, write_section
from o2o.cli.common import console
from o2o.core.settings import Settings

bench_app = typer.Typer(help="Benchmarks; results go to docs/benchmarks.md.", no_args_is_help=True)


@bench_app.callback()
def _bench() -> None:
    """Benchmarks measured side by side with their baselines."""


class _Bars:
    """Rich progress bars for the long phases, messages above them."""

    def __init__(self, progress: Progress, quiet: bool) -> None:
        self.progress = progress
        self.quiet = quiet

    def say(self, text: str) -> None:
        if not self.quiet:
            self.progress.console.print(text)

    def phase(self, name: str, total: int) -> Callable[[], None]:
        task = self.progress.add_task(name, total=total)
        return lambda: self.progress.advance(task)


@bench_app.command("geo")
def geo(
    stores: int = typer.Option(100_000, help="Number of stores."),
    stock: int = typer.Option(1_000_000, help="Number of stock rows."),
    products: int = typer.Option(10_000, help="Number of products (one variant each)."),
    queries: int = typer.Option(2_000, help="Query points per workload."),
    seed: int = typer.Option(20_240_601, help="Random seed (same seed, same data)."),
    reps: int = typer.Option(5, help="Timed passes over all points (medians are reported)."),
    reload: bool = typer.Option(False, "--reload", help="Reload the cached databases."),
    pg: str = typer.Option(
        "postgresql://postgres@127.0.0.1:5432/postgres",
        help="Admin DSN of the PostgreSQL server; '' skips PostgreSQL and PostGIS.",
    ),
    redis_url: str = typer.Option("redis://127.0.0.1:6379/0", help="'' skips Redis."),
    http_seconds: float = typer.Option(10.0, help="Seconds per HTTP/direct run; 0 skips."),
    docs: Path = typer.Option(Path("docs/benchmarks.md"), help="Where the results go."),
    write_docs: bool = typer.Option(True, help="Write the G1/G2 section of --docs."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """G1 and G2: ours on PostgreSQL and SQLite vs PostGIS, H3, Redis and the NumPy oracle."""
    options = Options(
        scale=Scale(stores=stores, stock=stock, products=products, queries=queries, seed=seed),
        data_dir=Settings().data_dir / "bench",
        pg_admin_dsn=pg or None,
        redis_url=redis_url or None,
        reload=reload,
        reps=reps,
        http_seconds=http_seconds,
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=as_json) as progress:
        report = asyncio.run(run(options, _Bars(progress, quiet=as_json)))
    command = "o2o " + shlex.join(sys.argv[1:])
    if write_docs:
        write_section(docs, markdown(report, command))
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))  # noqa: T201 (the --json output)
        return
    console.print(markdown(report, command))
    for text, ok in targets(report):
        console.print(("[green]met[/] " if ok else "[red]missed[/] ") + text)
