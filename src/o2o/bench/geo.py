"""``o2o bench geo``: G1 (nearby stores) and G2 (nearby stores with a variant) side by side.

Ours runs through the real service functions (``nearby_store_hits``, ``stock_hits``: the
search behind the nearby endpoints) on an ``AsyncSession`` of the app's own engine, on
PostgreSQL and on SQLite; the baselines answer the same queries on the same rows; the NumPy
oracle grades every answer. The endpoint itself is measured separately (``geo_http``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.bench import geo_baselines as bl
from o2o.bench.geo_data import CLASSES, GeoData, Scale, class_queries, generate
from o2o.bench.geo_http import Throughput, http_vs_direct
from o2o.bench.geo_load import load_pg, load_sqlite, pg_url
from o2o.bench.geo_measure import Query, Result, Workload, measure, workload
from o2o.bench.geo_oracle import Oracle
from o2o.core.db import create_engine
from o2o.inventory.queries import stock_hits
from o2o.merchants.queries import nearby_store_hits

OURS_PG = "ours · PostgreSQL"
OURS_SQLITE = "ours · SQLite"
POSTGIS = "PostGIS GiST KNN"
POSTGIS_G2 = "PostGIS btree_gist (variant_id, geog)"
POSTGIS_NAIVE = "PostGIS naive: nearest, then stock"
H3_SQLITE = "H3 k=4 disk · SQLite"
REDIS = "Redis GEOSEARCH"
ORACLE = "NumPy brute force (oracle)"


class Reporter(Protocol):
    def say(self, text: str) -> None: ...
    def phase(self, name: str, total: int) -> Callable[[], None]: ...


@dataclass(slots=True)
class Options:
    scale: Scale = field(default_factory=Scale)
    data_dir: Path = Path("var/bench")
    pg_admin_dsn: str | None = "postgresql://postgres@127.0.0.1:5432/postgres"
    redis_url: str | None = "redis://127.0.0.1:6379/0"
    reload: bool = False
    reps: int = 5
    oracle_reps: int = 1  # brute force is slow and only indicative
    radius_m: float = 5_000.0
    k: int = 20
    http_seconds: float = 10.0


@dataclass(slots=True)
class Report:
    options: Options
    results: list[Result]
    http: list[Throughput]

    def as_dict(self) -> dict[str, Any]:
        o = self.options
        return {
            "scale": {"stores": o.scale.stores, "stock": o.scale.stock,
                      "products": o.scale.products, "queries": o.scale.queries,
                      "seed": o.scale.seed},
            "radius_m": o.radius_m,
            "k": o.k,
            "reps": o.reps,
            "results": [r.as_dict() for r in self.results],
            "http": [t.as_dict() for t in self.http],
        }  # fmt: skip


def workloads(data: GeoData, oracle: Oracle, opts: Options) -> list[Workload]:
    lat, lng = data.query_lat.tolist(), data.query_lng.tolist()
    out = [workload(oracle, "G1", lat, lng, None, radius_m=opts.radius_m, k=opts.k)]
    for name in CLASSES:
        variants = class_queries(data, name, len(lat)).tolist()
        out.append(
            workload(oracle, f"G2 {name}", lat, lng, variants, radius_m=opts.radius_m, k=opts.k)
        )
    return out


def ours(session: AsyncSession, work: Workload) -> Query:
    """The real search functions, as the nearby endpoints call them."""

    async def query(i: int) -> list[int]:
        variant = work.variant(i)
        if variant is None:
            hits, _more = await nearby_store_hits(
                session, lat=work.lat[i], lng=work.lng[i], radius_m=work.radius_m, limit=work.k
            )
        else:
            hits, _more = await stock_hits(
                session, lat=work.lat[i], lng=work.lng[i], radius_m=work.radius_m,
                variant_id=variant, min_qty=1, limit=work.k,
            )  # fmt: skip
        return [h.id for h in hits]

    return query


def postgis(stmt: asyncpg.prepared_stmt.PreparedStatement, work: Workload) -> Query:
    async def query(i: int) -> list[int]:
        args: list[Any] = [work.lat[i], work.lng[i], work.radius_m, work.k]
        variant = work.variant(i)
        if variant is not None:
            args.append(variant)
        return [r[0] for r in await stmt.fetch(*args)]

    return query


def synchronous(fn: Callable[[float, float, float, int, int | None], list[int]],
                work: Workload) -> Query:  # fmt: skip
    async def query(i: int) -> list[int]:
        return fn(work.lat[i], work.lng[i], work.radius_m, work.k, work.variant(i))

    return query


async def run(opts: Options, out: Reporter) -> Report:
    """Load (or reuse) the data, then measure every system on every workload."""
    out.say(f"Generating data: {opts.scale.stores:,} stores, {opts.scale.stock:,} stock rows")
    data = generate(opts.scale)
    oracle = Oracle(data)
    out.say(f"Oracle: brute-force answers for {opts.scale.queries:,} points x 4 workloads")
    works = workloads(data, oracle, opts)

    sqlite_path = await asyncio.to_thread(
        load_sqlite, data, opts.data_dir, reload=opts.reload, say=out.say
    )
    await asyncio.to_thread(bl.setup_h3, str(sqlite_path), out.say, reload=opts.reload)
    dsn = None
    if opts.pg_admin_dsn:
        dsn = await load_pg(data, opts.pg_admin_dsn, reload=opts.reload, say=out.say)
        await bl.setup_postgis(dsn, out.say, reload=opts.reload)

    results = await measure_all(opts, out, data, oracle, works, sqlite_path=sqlite_path, dsn=dsn)

    http: list[Throughput] = []
    if dsn and opts.http_seconds > 0:
        out.say("HTTP: the nearby endpoint under uvicorn vs the same query called directly")
        url = pg_url(dsn, dsn.rsplit("/", 1)[1], driver="asyncpg")
        http = await http_vs_direct(url, works[0].lat, works[0].lng, radius_m=opts.radius_m,
                                    k=opts.k, seconds=opts.http_seconds)  # fmt: skip
    return Report(opts, results, http)


async def measure_all(
    opts: Options,
    out: Reporter,
    data: GeoData,
    oracle: Oracle,
    works: list[Workload],
    *,
    sqlite_path: Path,
    dsn: str | None,
) -> list[Result]:
    """Every system on every workload it supports, one after the other on one connection each."""
    results: list[Result] = []

    async def timed(work: Workload, system: str, query: Query, reps: int = opts.reps) -> None:
        tick = out.phase(f"{work.name}: {system}", reps)
        results.append(await measure(oracle, work, system, query, reps=reps, tick=tick))

    engines = [("sqlite", create_engine(f"sqlite+aiosqlite:///{sqlite_path}"))]
    if dsn:
        engines.insert(0, ("pg", create_engine(pg_url(dsn, dsn.rsplit("/", 1)[1],
                                                      driver="asyncpg"))))  # fmt: skip
    pg_conn = await asyncpg.connect(dsn) if dsn else None
    h3_conn = sqlite3.connect(sqlite_path)
    h3_search = bl.H3Search(h3_conn)
    redis_search = None
    if opts.redis_url and data.scale.stores:
        redis_search = bl.RedisSearch(opts.redis_url, f"o2o:bench:geo:{opts.scale.name}")
        ids = data.store_ids[data.store_active]
        redis_search.load(ids.tolist(), data.store_lat[ids - 1].tolist(),
                          data.store_lng[ids - 1].tolist())  # fmt: skip
    try:
        for work in works:
            for label, engine in engines:
                # One long-lived session, like the one connection the baselines get.
                async with AsyncSession(engine) as session:
                    await timed(work, OURS_PG if label == "pg" else OURS_SQLITE,
                                ours(session, work))  # fmt: skip
            if pg_conn is not None:
                if work.variants is None:
                    await timed(work, POSTGIS, postgis(await pg_conn.prepare(bl.PGIS_G1), work))
                else:
                    stmt = await pg_conn.prepare(bl.PGIS_G2)
                    await timed(work, POSTGIS_G2, postgis(stmt, work))
                    naive = await pg_conn.prepare(bl.PGIS_G2_NAIVE)
                    await timed(work, POSTGIS_NAIVE, postgis(naive, work))
            await timed(work, H3_SQLITE, synchronous(h3_search.nearest, work))
            if redis_search is not None and work.variants is None:
                await timed(work, REDIS, synchronous(
                    lambda la, ln, r, k, _v: redis_search.nearest(la, ln, r, k), work))  # fmt: skip
            await timed(work, ORACLE, synchronous(
                lambda la, ln, r, k, v: oracle.nearest(la, ln, r, k, v)[0].tolist(), work),
                reps=opts.oracle_reps)  # fmt: skip
    finally:
        if redis_search is not None:
            redis_search.close()
        h3_conn.close()
        if pg_conn is not None:
            await pg_conn.close()
        for _label, engine in engines:
            await engine.dispose()

    return results
