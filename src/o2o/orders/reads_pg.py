"""``placement.store_with_items`` on PostgreSQL: the same one query in plain SQL (see
``core.rawpg``). The rows become the same model instances, transient, so the rules that
follow read exactly what the ORM query would have given them."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog.models import Product, Variant
from o2o.core import rawpg
from o2o.merchants.models import Merchant, Store
from o2o.regions.models import Region

Rows = tuple[Store, Merchant, Region, list[tuple[Variant, Product, bool]]]


@functools.cache
def sql() -> str:
    columns = ", ".join(
        [
            rawpg.select_list(Store, "s", "s_"),
            rawpg.select_list(Merchant, "m", "m_"),
            rawpg.select_list(Region, "r", "r_"),
            rawpg.select_list(Variant, "v", "v_"),
            rawpg.select_list(Product, "p", "p_"),
            "l.id AS level_id",
        ]
    )
    return (
        f"SELECT {columns} FROM stores s"  # noqa: S608  # column names from our own models
        " JOIN merchants m ON m.id = s.merchant_id"
        " JOIN regions r ON r.id = s.region_id"
        " LEFT JOIN variants v ON v.id = ANY($2::bigint[])"
        " LEFT JOIN products p ON p.id = v.product_id"
        " LEFT JOIN stock_levels l ON l.variant_id = v.id AND l.store_id = s.id"
        " WHERE s.id = $1"
    )


async def store_with_items(session: AsyncSession, store_id: int, ids: list[int]) -> Rows | None:
    """The store, its merchant and region, and each found variant with its product and
    whether the store keeps a stock row for it; None if there is no such store."""
    rows: list[Any] = await (await rawpg.driver(session, begin=False)).fetch(sql(), store_id, ids)
    if not rows:
        return None
    first = rows[0]
    items = [
        (
            rawpg.build(Variant, row, "v_"),
            rawpg.build(Product, row, "p_"),
            row["level_id"] is not None,
        )
        for row in rows
        if row["v_id"] is not None and row["p_id"] is not None
    ]
    return (
        rawpg.build(Store, first, "s_"),
        rawpg.build(Merchant, first, "m_"),
        rawpg.build(Region, first, "r_"),
        items,
    )
