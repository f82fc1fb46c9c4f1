"""The systems ours is measured against: PostGIS, H3 on SQLite, Redis GEOSEARCH.

Each baseline gets its own tables (``bench_pgis_*`` in the PostgreSQL benchmark database,
``bench_h3_*`` in the SQLite one) built from the loaded rows, so the real schema stays as the
migrations made it. Every query function returns store ids, nearest first.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
from collections.abc import Callable

import asyncpg
import h3
import redis

from o2o.geo.distance import haversine_m

Say = Callable[[str], None]
H3_RES = 7
H3_K = 4  # a k=3 disk misses stores near the edge of a 5 km circle at resolution 7


async def _create_postgis(conn: asyncpg.Connection) -> str | None:
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        await conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    except asyncpg.PostgresError as exc:
        return str(exc)
    return None


async def ensure_postgis(conn: asyncpg.Connection, say: Say) -> None:
    """``CREATE EXTENSION postgis``, installing the Debian package first if it is missing."""
    problem = await _create_postgis(conn)
    if problem is None:
        return
    major = int(await conn.fetchval("SHOW server_version_num")) // 10_000
    package = f"postgresql-{major}-postgis-3"
    say(f"PostGIS is not available ({problem.strip()}).")
    if shutil.which("apt-get") is None:
        raise RuntimeError(f"PostGIS is missing and apt-get is not available: install {package}")
    install = ["apt-get", "install", "-y", package]
    # Install from the current package lists first; refresh them only if that fails.
    for cmd in (install, ["apt-get", "update"], install):
        say(f"Running: {' '.join(cmd)}")
        await asyncio.to_thread(subprocess.run, cmd, check=False)
        if cmd is install and await _create_postgis(conn) is None:
            say("PostGIS installed.")
            return
    raise RuntimeError(f"PostGIS is still unavailable after installing {package}.")


async def setup_postgis(dsn: str, say: Say, *, reload: bool) -> None:
    """Geography tables with GiST indexes beside the real ones (kept between runs)."""
    conn = await asyncpg.connect(dsn)
    try:
        await ensure_postgis(conn, say)
        done = await conn.fetchval("SELECT value FROM bench_meta WHERE key = 'postgis'")
        if done and not reload:
            return
        say("PostGIS: building geography tables and GiST indexes")
        async with conn.transaction():
            await conn.execute("DROP TABLE IF EXISTS bench_pgis_stores, bench_pgis_stock")
            await conn.execute(
                "CREATE TABLE bench_pgis_stores AS SELECT id, is_active, "
                "ST_SetSRID(ST_MakePoint(lng, lat), 4326)::geography AS geog FROM stores"
            )
            await conn.execute("ALTER TABLE bench_pgis_stores ADD PRIMARY KEY (id)")
            await conn.execute("CREATE INDEX ON bench_pgis_stores USING gist (geog)")
            # The stock-position design: one row per (variant, store) with the store's point,
            # the available quantity and the store's active flag copied in.
            await conn.execute(
                "CREATE TABLE bench_pgis_stock AS SELECT l.variant_id, l.store_id, l.available, "
                "s.is_active, s.geog FROM stock_levels l JOIN bench_pgis_stores s "
                "ON s.id = l.store_id"
            )
            await conn.execute("CREATE INDEX ON bench_pgis_stock USING gist (variant_id, geog)")
            await conn.execute(
                "INSERT INTO bench_meta VALUES ('postgis', 'yes') "
                "ON CONFLICT (key) DO UPDATE SET value = 'yes'"
            )
        await conn.execute("VACUUM ANALYZE bench_pgis_stores")
        await conn.execute("VACUUM ANALYZE bench_pgis_stock")
    finally:
        await conn.close()


# Sphere distances (use_spheroid false), like the oracle; `<->` on geography is spherical too.
PGIS_G1 = (
    "SELECT id FROM bench_pgis_stores WHERE is_active "
    "AND ST_DWithin(geog, ST_MakePoint($2, $1)::geography, $3, false) "
    "ORDER BY geog <-> ST_MakePoint($2, $1)::geography LIMIT $4"
)
PGIS_G2 = (
    "SELECT store_id FROM bench_pgis_stock WHERE variant_id = $5 AND available >= 1 "
    "AND is_active AND ST_DWithin(geog, ST_MakePoint($2, $1)::geography, $3, false) "
    "ORDER BY geog <-> ST_MakePoint($2, $1)::geography LIMIT $4"
)
PGIS_G2_NAIVE = (
    "SELECT s.id FROM bench_pgis_stores s WHERE s.is_active "
    "AND ST_DWithin(s.geog, ST_MakePoint($2, $1)::geography, $3, false) "
    "AND EXISTS (SELECT 1 FROM stock_levels l WHERE l.store_id = s.id "
    "AND l.variant_id = $5 AND l.available >= 1) "
    "ORDER BY s.geog <-> ST_MakePoint($2, $1)::geography LIMIT $4"
)


def setup_h3(path: str, say: Say, *, reload: bool) -> None:
    """H3 cell columns and covering indexes in the SQLite benchmark file (kept between runs)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        done = conn.execute("SELECT value FROM bench_meta WHERE key = 'h3'").fetchone()
        if done and not reload:
            return
        say(f"H3: computing resolution-{H3_RES} cells and indexes")
        conn.execute("BEGIN")
        conn.execute("DROP TABLE IF EXISTS bench_h3_stores")
        conn.execute("DROP TABLE IF EXISTS bench_h3_stock")
        conn.execute(
            "CREATE TABLE bench_h3_stores (h3 INTEGER, lat REAL, lng REAL, id INTEGER, "
            "is_active INTEGER)"
        )
        stores = conn.execute("SELECT lat, lng, id, is_active FROM stores").fetchall()
        conn.executemany(
            "INSERT INTO bench_h3_stores VALUES (?,?,?,?,?)",
            ((_h3(la, ln), la, ln, i, a) for la, ln, i, a in stores),
        )
        conn.execute(
            "CREATE INDEX ix_bench_h3_stores ON bench_h3_stores (h3, lat, lng, id, is_active)"
        )
        conn.execute(
            "CREATE TABLE bench_h3_stock AS SELECT l.variant_id, s.h3, s.lat, s.lng, "
            "l.store_id, l.available, s.is_active FROM stock_levels l "
            "JOIN bench_h3_stores s ON s.id = l.store_id"
        )
        conn.execute(
            "CREATE INDEX ix_bench_h3_stock ON bench_h3_stock "
            "(variant_id, h3, lat, lng, store_id, available, is_active)"
        )
        conn.execute("INSERT OR REPLACE INTO bench_meta VALUES ('h3', 'yes')")
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


def _h3(lat: float, lng: float) -> int:
    return int(h3.str_to_int(h3.latlng_to_cell(lat, lng, H3_RES)))


class H3Search:
    """The H3 design: the k=4 disk around the query's cell, then an exact filter in Python."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        n = len(h3.grid_disk(h3.latlng_to_cell(0.0, 0.0, H3_RES), H3_K))
        marks = ",".join("?" * n)
        self._g1 = f"SELECT id, lat, lng FROM bench_h3_stores WHERE h3 IN ({marks}) AND is_active"
        self._g2 = (
            f"SELECT store_id, lat, lng FROM bench_h3_stock WHERE variant_id = ? "
            f"AND h3 IN ({marks}) AND available >= 1 AND is_active"
        )
        self._n = n

    def _disk(self, lat: float, lng: float) -> list[int]:
        cells = [h3.str_to_int(c) for c in h3.grid_disk(h3.latlng_to_cell(lat, lng, H3_RES), H3_K)]
        # Near pentagons the disk is smaller; pad with a repeat so one prepared statement serves.
        return cells + [cells[0]] * (self._n - len(cells))

    def nearest(
        self, lat: float, lng: float, radius_m: float, k: int, variant: int | None = None
    ) -> list[int]:
        disk = self._disk(lat, lng)
        rows = (
            self.conn.execute(self._g1, disk)
            if variant is None
            else self.conn.execute(self._g2, [variant, *disk])
        )
        found = []
        for sid, la, ln in rows:
            d = haversine_m(lat, lng, la, ln)
            if d <= radius_m:
                found.append((d, sid))
        found.sort()
        return [sid for _d, sid in found[:k]]


class RedisSearch:
    """Redis GEOSEARCH over a dedicated key holding the active stores; deleted by ``close``."""

    def __init__(self, url: str, key: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.key = key

    def load(self, ids: list[int], lats: list[float], lngs: list[float]) -> None:
        self.client.delete(self.key)
        pipe = self.client.pipeline(transaction=False)
        for i in range(0, len(ids), 10_000):
            values: list[float | int] = []
            for sid, la, ln in zip(ids[i : i + 10_000], lats[i : i + 10_000],
                                   lngs[i : i + 10_000], strict=True):  # fmt: skip
                values.extend((ln, la, sid))
            pipe.execute_command("GEOADD", self.key, *values)  # type: ignore[no-untyped-call]
        pipe.execute()

    def nearest(self, lat: float, lng: float, radius_m: float, k: int) -> list[int]:
        found = self.client.execute_command(  # type: ignore[no-untyped-call]
            "GEOSEARCH", self.key, "FROMLONLAT", lng, lat, "BYRADIUS", radius_m, "m",
            "ASC", "COUNT", k,
        )  # fmt: skip
        return [int(m) for m in found]

    def close(self) -> None:
        self.client.delete(self.key)
        self.client.close()
