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


@bench_app.command("orders")
def orders(
    buyers: int = typer.Option(1_000, help="O1: concurrent buyers in the big flash sale."),
    units: int = typer.Option(100, help="O1: units on sale in the big flash sale."),
    runs: int = typer.Option(100, help="O1: randomized small sales (100 buyers, 10 units)."),
    small_buyers: int = typer.Option(100, help="Buyers per randomized small sale."),
    small_units: int = typer.Option(10, help="Units per randomized small sale."),
    workers: list[int] = typer.Option(
        [1], help="uvicorn workers; repeat (--workers 1 --workers 2) to measure each."
    ),
    clients: int = typer.Option(32, help="Concurrent clients for HTTP and pgbench throughput."),
    duration: float = typer.Option(8.0, help="Seconds per throughput repetition."),
    reps: int = typer.Option(3, help="Alternating repetitions per system (medians reported)."),
    stores: int = typer.Option(200, help="O2: stores (every one stocks every variant)."),
    products: int = typer.Option(100, help="O2: products (x --sizes variants each)."),
    sizes: int = typer.Option(5, help="O2: variants per product."),
    o2: bool = typer.Option(True, help="Run O2 (platform-wide orders)."),
    client: str = typer.Option(
        "wrk",
        help="Load generator of the throughput phases: wrk (apt-get install -y wrk) or httpx.",
    ),
    seed: int = typer.Option(20_240_601, help="Random seed (same seed, same buyers)."),
    pg: str = typer.Option(
        "postgresql://postgres@127.0.0.1:5432/postgres",
        help="Admin DSN of the PostgreSQL server (fresh databases are created and dropped).",
    ),
    docs: Path = typer.Option(Path("docs/benchmarks.md"), help="Where the results go."),
    write_docs: bool = typer.Option(True, help="Write the Orders section of --docs."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """O1 (flash sale: correctness and a hot level) and O2 (Zipf orders over many stores),
    through the real API under uvicorn, side by side with pgbench on the same SQL."""
    from o2o.bench import orders as bench_orders
    from o2o.bench import orders_report

    options = bench_orders.Options(
        pg_admin_dsn=pg, buyers=buyers, units=units, runs=runs, small_buyers=small_buyers,
        small_units=small_units, workers=tuple(workers), clients=clients, seconds=duration,
        reps=reps, stores=stores, products=products, sizes=sizes, seed=seed, o2=o2,
        client=client,
    )  # fmt: skip
    if client not in ("wrk", "httpx"):
        console.print("[red]--client is wrk or httpx[/]")
        raise typer.Exit(2)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    try:
        with Progress(*columns, console=console, transient=as_json) as progress:
            report = asyncio.run(bench_orders.run(options, _Bars(progress, quiet=as_json)))
    except RuntimeError as exc:  # pgbench missing, server failed to start: say so plainly
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    command = "o2o " + shlex.join(sys.argv[1:])
    section = orders_report.markdown(report, command)
    if write_docs:
        orders_report.write_section(docs, section)
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))  # noqa: T201 (the --json output)
        return
    console.print(section)
    for text, ok in orders_report.targets(report):
        console.print(("[green]met[/] " if ok else "[red]missed[/] ") + text)


@bench_app.command("dispatch")
def dispatch(
    instance: Path = typer.Option(
        ..., "--instance", help="An MDRP instance directory, or a directory of them (all run)."
    ),
    policy: str = typer.Option(
        "", "--policy", help="ours, greedy or matching; default: all three side by side."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object for our policy (or --policy's)."
    ),
    round_seconds: float = typer.Option(60.0, help="Simulated seconds between rounds."),
    live: bool = typer.Option(False, "--live", help="Also run ours in live (queueing) mode."),
    scale: bool = typer.Option(
        False, "--scale", help="Also time rounds at --scale-orders × --scale-couriers."
    ),
    scale_orders: int = typer.Option(1_000, help="Open orders in the scale test."),
    scale_couriers: int = typer.Option(500, help="Couriers in the scale test."),
    scale_rounds: int = typer.Option(20, help="Timed rounds in the scale test."),
    docs: Path = typer.Option(Path("docs/benchmarks.md"), help="Where the results go."),
    write_docs: bool = typer.Option(
        False, "--write-docs", help="Write the D1 section of --docs and the plot beside it."
    ),
) -> None:
    """D1: replay MDRP days through our dispatch and the baselines (greedy, matching)."""
    from o2o.bench import dispatch as bench_dispatch
    from o2o.bench import dispatch_report
    from o2o.bench.dispatch_scale import scale_test
    from o2o.bench.mdrp import InstanceError

    if policy and policy not in bench_dispatch.POLICIES:
        console.print(f"[red]--policy must be one of {', '.join(bench_dispatch.POLICIES)}[/]")
        raise typer.Exit(2)
    try:
        options = bench_dispatch.Options(
            instances=bench_dispatch.instance_dirs(instance),
            policies=(policy or "ours",)
            if as_json
            else (policy,)
            if policy
            else bench_dispatch.POLICIES,
            round_seconds=round_seconds,
            live=live,
        )
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())  # fmt: skip
        with Progress(*columns, console=console, transient=as_json, disable=as_json) as progress:
            bars = _Bars(progress, quiet=as_json)
            results = bench_dispatch.run(options, bars.phase)
            timed = None
            if scale:
                tick = bars.phase(f"scale: {scale_orders:,} orders × {scale_couriers}", 1)
                timed = scale_test(scale_orders, scale_couriers, scale_rounds)
                tick()
    except InstanceError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    if as_json:
        summary = results[0].summaries[policy or "ours"]
        print(json.dumps(summary.as_dict(), indent=2))  # noqa: T201 (the --json output)
        return
    # the data lives outside the project: the docs show where it sits as DATA/<name>
    argv = [f"DATA/{instance.resolve().name}" if a == str(instance) else a for a in sys.argv[1:]]
    command = "o2o " + shlex.join(argv)
    plot = docs.parent / "benchmarks-dispatch.svg"
    section = dispatch_report.markdown(results, timed, command,
                                       plot=plot.name if write_docs else None)  # fmt: skip
    if write_docs:
        plot.write_text(dispatch_report.svg(results))
        dispatch_report.write_section(docs, section)
    console.print(section)
    for text, ok in dispatch_report.targets(results, timed):
        console.print(("[green]met[/] " if ok else "[red]missed[/] ") + text)


@bench_app.command("tracking")
def tracking(
    couriers: int = typer.Option(500, help="Couriers, each carrying one watched delivery."),
    batch: int = typer.Option(5, help="Positions per batch a courier posts."),
    interval: float = typer.Option(1.0, help="Seconds between a courier's batches."),
    duration: float = typer.Option(15.0, help="Seconds measured (after a 2 s warm-up)."),
    bare: bool = typer.Option(True, help="Also run the bare Starlette + Redis baseline."),
    courier_ws: bool = typer.Option(
        True,
        help="Also run our API with couriers sending their batches on the positions "
        "WebSocket (one connection each) instead of a POST per batch.",
    ),
    pg: str = typer.Option(
        "postgresql://postgres@127.0.0.1:5432/postgres",
        help="Admin DSN of the PostgreSQL server (a fresh database is created and dropped).",
    ),
    redis_url: str = typer.Option("redis://127.0.0.1:6379/0", help="Redis between the processes."),
    docs: Path = typer.Option(Path("docs/benchmarks.md"), help="Where the results go."),
    write_docs: bool = typer.Option(True, help="Write the C1 section of --docs."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """C1: courier positions posted to one API process, followed live from another through
    Redis, side by side with a bare broadcaster and redis-benchmark's PUBLISH."""
    from o2o.bench import tracking as bench_tracking
    from o2o.bench import tracking_report

    if couriers < 1 or batch < 1 or batch > 100 or interval <= 0 or duration <= 0:
        console.print("[red]--couriers ≥ 1, 1 ≤ --batch ≤ 100, --interval > 0, --duration > 0.[/]")
        raise typer.Exit(2)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    runs = []
    try:
        with Progress(*columns, console=console, transient=True, disable=as_json) as progress:
            bars = _Bars(progress, quiet=as_json)
            tick = bars.phase(f"ours: {couriers:,} couriers, two API processes", 1)
            runs.append(
                asyncio.run(
                    bench_tracking.ours(
                        pg,
                        redis_url,
                        couriers=couriers,
                        seconds=duration,
                        batch=batch,
                        interval=interval,
                    )
                )
            )
            tick()
            if courier_ws:
                tick = bars.phase(f"ours, couriers on a WebSocket: {couriers:,}", 1)
                runs.append(
                    asyncio.run(
                        bench_tracking.ours(
                            pg,
                            redis_url,
                            couriers=couriers,
                            seconds=duration,
                            batch=batch,
                            interval=interval,
                            courier_transport="ws",
                        )
                    )
                )
                tick()
            if bare:
                tick = bars.phase("bare Starlette + Redis", 1)
                runs.append(
                    asyncio.run(
                        bench_tracking.bare(
                            redis_url,
                            couriers=couriers,
                            seconds=duration,
                            batch=batch,
                            interval=interval,
                        )
                    )
                )
                tick()
            tick = bars.phase("redis-benchmark PUBLISH", 1)
            ceiling = bench_tracking.redis_publish_ceiling(redis_url)
            tick()
    except (OSError, RuntimeError) as exc:  # PostgreSQL or Redis down, a server failed to start
        console.print(f"[red]{exc}[/] Is PostgreSQL at --pg and Redis at --redis-url running?")
        raise typer.Exit(1) from exc
    report = tracking_report.Report(couriers, batch, interval, duration, runs, ceiling)
    section = tracking_report.markdown(report, "o2o " + shlex.join(sys.argv[1:]))
    if write_docs:
        tracking_report.write_section(docs, section)
    if as_json:
        print(json.dumps(tracking_report.as_dict(report), indent=2))  # noqa: T201 (the --json output)
        return
    console.print(section)
    for text, ok in tracking_report.targets(report):
        console.print(("[green]met[/] " if ok else "[red]missed[/] ") + text)
