"""The nearby-search statements over stores, built once per shape (``merchants.queries``
runs them): the SQLite/PostgreSQL cell-range forms and the PostgreSQL server-side search."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import select

from o2o.geo import pg
from o2o.geo.sql import AnySelect, in_cell_ranges, probe_cell_ranges
from o2o.merchants.models import Store


def stores_in(dialect: str, count: int, extra: tuple[Any, ...] = ()) -> AnySelect:
    """Active stores in the cell ranges: the columns of the covering index ix_stores_geo, so
    each range is one index seek and no table row is read."""
    return in_cell_ranges(
        dialect,
        count,
        lambda cell_in, _param: select(
            Store.id, Store.lat, Store.lng, Store.id.label("payload")
        ).where(cell_in(Store.cell), Store.is_active.is_(True), *extra),
    )


# Built once per dialect and range count (SQLAlchemy then reuses the compiled form).
active_stores_in = lru_cache(maxsize=128)(stores_in)


@lru_cache(maxsize=256)
def active_stores_probe(dialect: str, near: int, wide: int) -> Any:
    return probe_cell_ranges(
        dialect,
        near,
        wide,
        lambda cell_in, _param: select(
            Store.id, Store.lat, Store.lng, Store.id.label("payload")
        ).where(cell_in(Store.cell), Store.is_active.is_(True)),
    )


@lru_cache(maxsize=8)
def pg_stores(by_category: bool, by_text: bool) -> pg.Statement:
    """The PostgreSQL search over active stores (``o2o.geo.pg``): one index-only range scan
    of ix_stores_geo per cover range, unless the text filter needs the table row."""
    extra = ""
    if by_category:
        extra += " AND t.category_id = ANY ($cats:int8[])"
    if by_text:
        # LIKE's default escape character is the backslash ``like_pattern`` escapes with.
        extra += " AND t.search_text LIKE ALL ($terms:text[])"
    rows = (
        f"SELECT t.id, {pg.DISTANCE} AS d FROM stores t "  # noqa: S608 (constant SQL)
        f"WHERE t.cell BETWEEN g.lo AND g.hi AND {pg.IN_BOX} AND t.is_active{extra} OFFSET 0"
    )
    return pg.search_statement(
        f"SELECT c.id, c.d FROM {pg.RANGES} CROSS JOIN LATERAL ({rows}) c "  # noqa: S608 (constant SQL)
        f"WHERE {pg.IN_TIER} ORDER BY c.d, c.id LIMIT {pg.LIMIT}"
    )
