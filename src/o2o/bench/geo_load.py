"""Load the generated geo data into PostgreSQL and SQLite, migrated with the real schema.

Loaded databases are kept (a PostgreSQL database ``o2o_bench_<scale>``, a SQLite file under
``<data dir>/bench/``) and reused when their ``bench_meta`` row says the load finished, so a
re-run measures instead of reloading. Secondary indexes are dropped during the bulk load and
recreated from their own stored definitions afterwards: one sort per index instead of a
million random inserts, and exactly the index the migration made.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from o2o.bench.geo_data import AREA, GeoData, cells_of
from o2o.core.migrate import upgrade

Say = Callable[[str], None]
LOADED_AT = datetime(2024, 6, 1, tzinfo=UTC)  # fixed, so the rows do not depend on the day
WEEK = json.dumps([[[420, 1380]]] * 7)  # open 07:00-23:00 every day
CHUNK = 50_000


def pg_url(admin_dsn: str, dbname: str, *, driver: str = "") -> str:
    """The DSN of another database on the server of ``admin_dsn`` (optionally for SQLAlchemy)."""
    base = admin_dsn.rsplit("/", 1)[0]
    if driver:
        base = base.replace("postgresql://", f"postgresql+{driver}://", 1)
    return f"{base}/{dbname}"


def _store_rows(data: GeoData, *, sqlite: bool) -> Iterator[tuple[Any, ...]]:
    cells = cells_of(data.store_lat, data.store_lng)
    created: Any = LOADED_AT.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else LOADED_AT
    for i in range(len(data.store_lat)):
        sid = i + 1
        yield (
            sid, 1, 1, 1, f"Store {sid}", f"门店{sid}", "", "", "",
            float(data.store_lat[i]), float(data.store_lng[i]), int(cells[i]),
            WEEK, "{}", True, False, False, False, False, False, 3000, 0, 0,
            f"store {sid}", bool(data.store_active[i]), created,
        )  # fmt: skip


STORE_COLUMNS = [
    "id", "merchant_id", "region_id", "category_id", "name", "name_zh", "address", "address_zh",
    "phone", "lat", "lng", "cell", "opening_hours", "hours_exceptions", "offers_pickup",
    "offers_reserve", "offers_delivery", "offers_shipping", "offers_booking", "offers_scan_go",
    "delivery_radius_m", "rating_sum", "rating_count", "search_text", "is_active", "created_at",
]  # fmt: skip
STOCK_COLUMNS = [
    "store_id", "variant_id", "region_id", "cell", "lat", "lng", "store_active", "on_hand",
    "reserved", "updated_at",
]  # fmt: skip
# Part of the cached databases' names: a schema change must not reuse (or clobber) databases
# loaded for an older schema, which other checkouts may still be using.
SCHEMA = "v2"


def _stock_rows(data: GeoData, *, sqlite: bool) -> Iterator[tuple[Any, ...]]:
    idx = data.stock_store - 1
    lat, lng = data.store_lat[idx], data.store_lng[idx]
    cells = cells_of(lat, lng)
    updated: Any = LOADED_AT.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else LOADED_AT
    for s, v, c, la, ln, act, oh, rs in zip(
        data.stock_store.tolist(),
        data.stock_variant.tolist(),
        cells.tolist(),
        lat.tolist(),
        lng.tolist(),
        data.store_active[idx].tolist(),
        data.stock_on_hand.tolist(),
        data.stock_reserved.tolist(),
        strict=True,
    ):
        yield (s, v, 1, c, la, ln, act, oh, rs, updated)


def _parent_sql(data: GeoData) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """The minimum parent rows, as (INSERT with ? placeholders, rows)."""
    min_lat, max_lat, min_lng, max_lng = AREA
    region = (1, "bench", "Bench area", "基准区", "UTC", "CNY",
              (min_lat + max_lat) / 2, (min_lng + max_lng) / 2, min_lat, min_lng, max_lat,
              max_lng, True)  # fmt: skip
    n = data.scale.products
    return [
        (
            "INSERT INTO regions (id, code, name, name_zh, timezone, currency, center_lat, "
            "center_lng, min_lat, min_lng, max_lat, max_lng, is_active) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [region],
        ),
        (
            "INSERT INTO categories (id, code, name, name_zh, parent_id) VALUES (?,?,?,?,?)",
            [(1, "bench-grocery", "Grocery", "杂货", None)],
        ),
        (
            "INSERT INTO merchants (id, name, name_zh, category_id, status, created_at) "
            "VALUES (?,?,?,?,?,?)",
            [(1, "Bench merchant", "基准商户", 1, "approved", LOADED_AT)],
        ),
        (
            "INSERT INTO products (id, merchant_id, category_id, title, title_zh, description, "
            "description_zh, brand, currency, search_text, is_active, created_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [_product(i) for i in range(1, n + 1)],
        ),
        (
            "INSERT INTO variants (id, product_id, merchant_id, sku, barcode, attributes, price, "
            "position, is_active) VALUES (?,?,?,?,?,?,?,?,?)",
            [(i, i, 1, f"SKU-{i}", None, "{}", 100 + i % 900, 0, True) for i in range(1, n + 1)],
        ),
    ]


def _product(i: int) -> tuple[Any, ...]:
    return (i, 1, 1, f"Product {i}", f"商品{i}", "", "", "", "CNY", f"product {i}", True, LOADED_AT)


def _tables(
    data: GeoData, *, sqlite: bool
) -> list[tuple[str, list[str], Iterator[tuple[Any, ...]]]]:
    return [
        ("stores", STORE_COLUMNS, _store_rows(data, sqlite=sqlite)),
        ("stock_levels", STOCK_COLUMNS, _stock_rows(data, sqlite=sqlite)),
    ]


def _pg_params(sql: str) -> str:
    parts = sql.split("?")
    return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))


async def pg_is_loaded(dsn: str, scale_name: str) -> bool:
    try:
        conn = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        return False
    try:
        value = await conn.fetchval(
            "SELECT value FROM bench_meta WHERE key = 'loaded'"
            if await conn.fetchval("SELECT to_regclass('bench_meta') IS NOT NULL")
            else "SELECT NULL"
        )
        return bool(value == scale_name)
    finally:
        await conn.close()


async def load_pg(data: GeoData, admin_dsn: str, *, reload: bool, say: Say) -> str:
    """The asyncpg DSN of a PostgreSQL database holding ``data`` (loaded if needed)."""
    dbname = f"o2o_bench_{data.scale.name}_{SCHEMA}".lower()
    dsn = pg_url(admin_dsn, dbname)
    if not reload and await pg_is_loaded(dsn, data.scale.name):
        say(f"PostgreSQL: reusing database {dbname}")
        return dsn
    say(f"PostgreSQL: creating database {dbname} and migrating it")
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{dbname}"')
    finally:
        await admin.close()
    await asyncio.to_thread(upgrade, pg_url(admin_dsn, dbname, driver="asyncpg"))
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            for sql, parents in _parent_sql(data):
                await conn.executemany(_pg_params(sql), parents)
            for table, columns, rows in _tables(data, sqlite=False):
                say(f"PostgreSQL: copying {table}")
                defs = await conn.fetch(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 "
                    "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                    table,
                )
                for d in defs:
                    await conn.execute(f'DROP INDEX "{d["indexname"]}"')
                await conn.copy_records_to_table(table, records=rows, columns=columns)
                say(f"PostgreSQL: indexing {table}")
                for d in defs:
                    await conn.execute(d["indexdef"])
            for table in ("regions", "categories", "merchants", "products", "variants",
                          "stores", "stock_levels"):  # fmt: skip
                # Explicit ids were inserted; later inserts (the API) must not collide.
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            await conn.execute("CREATE TABLE bench_meta (key text PRIMARY KEY, value text)")
            await conn.execute("INSERT INTO bench_meta VALUES ('loaded', $1)", data.scale.name)
        say("PostgreSQL: VACUUM ANALYZE (index-only scans need the visibility map)")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return dsn


def sqlite_is_loaded(path: Path, scale_name: str) -> bool:
    if not path.exists():
        return False
    conn = sqlite3.connect(path)
    try:
        row = conn.execute(
            "SELECT value FROM bench_meta WHERE key = 'loaded'"
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'bench_meta'").fetchone()
            else "SELECT NULL"
        ).fetchone()
        return bool(row and row[0] == scale_name)
    finally:
        conn.close()


def load_sqlite(data: GeoData, directory: Path, *, reload: bool, say: Say) -> Path:
    """The path of a SQLite file holding ``data`` (loaded if needed). Not inside a loop."""
    path = directory / f"geo_{data.scale.name}_{SCHEMA}.sqlite"
    if not reload and sqlite_is_loaded(path, data.scale.name):
        say(f"SQLite: reusing {path}")
        return path
    directory.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    say(f"SQLite: migrating {path}")
    upgrade(f"sqlite+aiosqlite:///{path}")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("BEGIN")
        for sql, parents in _parent_sql(data):
            conn.executemany(sql, [_sqlite_values(r) for r in parents])
        for table, columns, rows in _tables(data, sqlite=True):
            say(f"SQLite: inserting {table}")
            defs = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL",
                (table,),
            ).fetchall()
            for name, _sql in defs:
                conn.execute(f'DROP INDEX "{name}"')
            marks = ",".join("?" * len(columns))
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            for _name, sql in defs:
                conn.execute(sql)
        conn.execute("CREATE TABLE bench_meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO bench_meta VALUES ('loaded', ?)", (data.scale.name,))
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return path


def _sqlite_values(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v for v in row)
