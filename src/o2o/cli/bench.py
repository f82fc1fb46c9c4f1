"""``o2o bench …``: benchmarks (see docs/benchmarks.md)."""

from __future__ import annotations

import typer

bench_app = typer.Typer(help="Benchmarks; results go to docs/benchmarks.md.", no_args_is_help=True)


@bench_app.callback()
def _bench() -> None:
    """Benchmarks measured side by side with their baselines."""
