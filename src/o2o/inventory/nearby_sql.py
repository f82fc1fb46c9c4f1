"""The nearby-search statements over stock rows, built once per shape
(``inventory.queries`` runs them): the SQLite/PostgreSQL cell-range forms and the PostgreSQL
server-side searches."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Integer, select

from o2o.geo import pg
from o2o.geo.sql import AnySelect, Param, in_cell_ranges, probe_cell_ranges
from o2o.inventory.models import StockLevel


def stocked(cell_in: Callable[[Any], Any], param: Param) -> AnySelect:
    """Stock rows of a variant with enough available in the cell ranges, from the index alone."""
    return select(StockLevel.store_id, StockLevel.lat, StockLevel.lng, StockLevel.available).where(
        StockLevel.variant_id == param("variant_id", BigInteger()),
        cell_in(StockLevel.cell),
        StockLevel.available >= param("min_qty", Integer()),
    )


def available(cell_in: Callable[[Any], Any], param: Param) -> AnySelect:
    """``stocked`` rows at active stores (the flag the rows copy, also in the index)."""
    return stocked(cell_in, param).where(StockLevel.store_active.is_(True))


@lru_cache(maxsize=128)
def available_in(dialect: str, count: int) -> AnySelect:
    return in_cell_ranges(dialect, count, available)


@lru_cache(maxsize=256)
def available_probe(dialect: str, near: int, wide: int) -> Any:
    return probe_cell_ranges(dialect, near, wide, available)


@lru_cache(maxsize=1)
def pg_available() -> pg.Statement:
    """The PostgreSQL search over the stock rows of a variant with enough available at active
    stores (``o2o.geo.pg``), from ix_stock_levels_geo alone."""
    rows = (
        f"SELECT t.store_id AS id, {pg.DISTANCE} AS d, t.available AS q FROM stock_levels t "  # noqa: S608 (constant SQL)
        "WHERE t.variant_id = $variant_id:int8 AND t.cell BETWEEN g.lo AND g.hi "
        f"AND t.available >= $min_qty:int4 AND t.store_active AND {pg.IN_BOX} OFFSET 0"
    )
    return pg.search_statement(
        f"SELECT c.id, c.d, c.q FROM {pg.RANGES} CROSS JOIN LATERAL ({rows}) c "  # noqa: S608 (constant SQL)
        f"WHERE {pg.IN_TIER} ORDER BY c.d, c.id LIMIT {pg.LIMIT}"
    )


@lru_cache(maxsize=1)
def pg_any_of() -> pg.Statement:
    """The PostgreSQL search over active stores with a stock row of any of some variants:
    their rows grouped per store (one cell, one position, so one distance), with quantities."""
    rows = (
        f"SELECT t.store_id AS id, {pg.DISTANCE} AS d, t.variant_id AS v, t.available AS q "  # noqa: S608 (constant SQL)
        "FROM stock_levels t WHERE t.variant_id = ANY ($variant_ids:int8[]) "
        f"AND t.cell BETWEEN g.lo AND g.hi AND t.store_active AND {pg.IN_BOX} OFFSET 0"
    )
    return pg.search_statement(
        "SELECT c.id, c.d, array_agg(c.v) AS v, array_agg(c.q) AS q "  # noqa: S608 (constant SQL)
        f"FROM {pg.RANGES} CROSS JOIN LATERAL ({rows}) c WHERE {pg.IN_TIER} "
        f"GROUP BY c.id, c.d ORDER BY c.d, c.id LIMIT {pg.LIMIT}"
    )


def quantities(row: Any) -> dict[int, int]:
    return dict(zip(row[2], row[3], strict=True))
