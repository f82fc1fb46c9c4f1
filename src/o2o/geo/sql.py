"""SQL for the client-side searches over tables that carry grid cells (``o2o.geo.grid``), as
SQLite runs them (PostgreSQL runs its whole search server-side: ``o2o.geo.pg``).

A search step asks for the rows whose cell lies in a list of ranges. The statements here are
built once per shape (the callers cache them) and bound with plain integers, so they can run
at driver level (``o2o.core.db.driver_fetch``) without SQLAlchemy's per-statement cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeAlias

from sqlalchemy import (
    Integer,
    Select,
    bindparam,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from o2o.geo import knn

# A select of any columns (SQLAlchemy 2.1 types a select by its column tuple).
AnySelect: TypeAlias = "Select[*tuple[Any, ...]]"
# cell_in(cell column) -> condition; param(name, type) -> placeholder. See ``in_cell_ranges``.
CellIn = Callable[[Any], Any]
Param = Callable[[str, Any], Any]
Build = Callable[[CellIn, Param], AnySelect]


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """A statement compiled once for the driver: its SQL and its parameters' names in order."""

    sql: str
    names: tuple[str, ...]
    # Values SQLAlchemy binds itself (such as the OFFSET 0 it adds after a LIMIT on SQLite).
    fixed: tuple[tuple[str, Any], ...]


@lru_cache(maxsize=256)
def driver_statement(stmt: Any, dialect: Dialect) -> DriverStatement:
    compiled = stmt.compile(dialect=dialect)
    fixed = tuple((k, v) for k, v in compiled.params.items() if v is not None)
    return DriverStatement(str(compiled), tuple(compiled.positiontup or ()), fixed)


async def driver_fetch(conn: AsyncConnection, stmt: Any, values: dict[str, Any]) -> Any:
    """The rows of a hot read statement, run by the database driver itself on ``conn``.

    SQLAlchemy adds 0.1-0.3 ms per statement over the driver (greenlet switch, parameter and
    result processing), most of the time of a nearby-search step. Only for statements built
    once (so their compiled form is cached) whose parameters need no conversion (integers and
    integer arrays) and whose rows are used as plain tuples. The statement runs on the
    session's own connection, so in its transaction.
    """
    compiled = driver_statement(stmt, conn.dialect)
    if compiled.fixed:
        values = {**dict(compiled.fixed), **values}
    args = [values[name] for name in compiled.names]
    raw = (await conn.get_raw_connection()).driver_connection
    if conn.dialect.name == "postgresql":
        return await raw.fetch(compiled.sql, *args)  # type: ignore[union-attr]
    return await raw.execute_fetchall(compiled.sql, args)  # type: ignore[union-attr]


def _plain(name: str, type_: Any) -> Any:
    return bindparam(name, type_=type_)


def in_cell_ranges(dialect: str, count: int, build: Build, *, prefix: str = "cell") -> AnySelect:
    """The rows of ``build``'s select whose cell lies in one of ``count`` ranges, bound later by
    ``cell_range_values``. ``build(cell_in, param)`` adds its own columns and conditions;
    ``cell_in`` turns the cell column into the range condition and ``param(name, type)`` makes
    a placeholder for its other values.

    SQLite answers ``cell BETWEEN … OR …`` with one covering-index seek per range. (PostgreSQL
    runs its whole search server-side instead: ``o2o.geo.pg``.)
    """
    return build(
        lambda column: or_(
            *(
                column.between(bindparam(f"{prefix}_lo_{i}"), bindparam(f"{prefix}_hi_{i}"))
                for i in range(count)
            )
        ),
        _plain,
    )


def cell_range_values(
    dialect: str, ranges: list[tuple[int, int]], *, prefix: str = "cell"
) -> dict[str, Any]:
    """The bound values of ``in_cell_ranges`` for these ranges."""
    values: dict[str, Any] = {}
    for i, (lo, hi) in enumerate(ranges):
        values[f"{prefix}_lo_{i}"] = lo
        values[f"{prefix}_hi_{i}"] = hi
    return values


def probe_cell_ranges(dialect: str, near: int, everywhere: int, build: Build) -> Any:
    """Two searches in one statement: the rows in the ``near`` ranges (column ``part`` 0), and
    the rows of the ``everywhere`` ranges (``part`` 1), cut at ``:cap``. Bind with
    ``probe_values``; read with ``split_probe``.

    A sparse area (or a rare variant) is thereby answered in one statement; in a dense one the
    wide part stops at the cap and the search widens step by step from the near rows. In-process
    SQLite sends nothing over a wire, so up to ``cap`` wide rows cost less than a second pass
    over the index to count them first.
    """
    del dialect  # the cell-range statements are SQLite's; PostgreSQL searches server-side
    near_rows = in_cell_ranges("sqlite", near, build, prefix="near").subquery("near_rows")
    wide = in_cell_ranges("sqlite", everywhere, build, prefix="wide").limit(
        bindparam("cap", type_=Integer())
    )
    return union_all(
        select(literal_column("0").label("part"), *near_rows.c),
        select(literal_column("1").label("part"), *wide.subquery("wide_rows").c),
    )


def probe_values(
    dialect: str, near: list[tuple[int, int]], everywhere: list[tuple[int, int]], cap: int
) -> dict[str, Any]:
    return {
        **cell_range_values(dialect, near, prefix="near"),
        **cell_range_values(dialect, everywhere, prefix="wide"),
        "cap": cap,
    }


def split_probe(rows: Any) -> tuple[list[Any], list[Any], int]:
    """The near rows, the wide rows (without ``part``) and the wide count of a probe."""
    near: list[Any] = []
    wide: list[Any] = []
    held = -1
    for row in rows:
        part = row[0]
        if part == 2:
            held = int(row[1])
        else:
            (wide if part else near).append(tuple(row)[1:])
    return near, wide, held if held >= 0 else len(wide)


def statement_key(dialect: str, ranges: knn.Ranges) -> tuple[str, int]:
    """Cache key of a cell-range statement: one compiled form per number of ranges."""
    return dialect, len(ranges)


def driver_probe(
    conn: AsyncConnection,
    build: Callable[[str, int, int], Any],
    extra: dict[str, Any] | None = None,
) -> knn.Probe:
    """A knn probe running the statement ``build(dialect, near, wide)`` at driver level."""
    dialect = conn.dialect.name

    async def probe(
        near: knn.Ranges, wide: knn.Ranges, cap: int
    ) -> tuple[Iterable[knn.Row], Iterable[knn.Row] | None]:
        _, n_near = statement_key(dialect, near)
        _, n_wide = statement_key(dialect, wide)
        values = probe_values(dialect, near, wide, cap)
        if extra:
            values.update(extra)
        near_rows, wide_rows, held = split_probe(
            await driver_fetch(conn, build(dialect, n_near, n_wide), values)
        )
        return near_rows, (wide_rows if held < cap else None)

    return probe
