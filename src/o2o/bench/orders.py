"""``o2o bench orders``: O1 (flash sale) and O2 (platform-wide orders) against pgbench.

O1 has two halves. Correctness: ``buyers`` buyers rush ``units`` units of one variant through
the real API (one uvicorn process), with retries and duplicate sends, and the database is
checked afterwards (``orders_check``); then ``runs`` small randomized sales. Throughput: the
same hot level, stocked so it never runs out, ordered back to back by ``clients`` buyers,
alternating with pgbench running the same transaction at the same client count, ``reps``
times; medians are reported, since other work shares the machine.

O2 does the same over ``stores × variants`` levels with Zipf popularity, then offers 80 % of
the measured saturation rate as an open-loop stream and reports its latency.
"""

from __future__ import annotations

import dataclasses
import random
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from o2o.bench.orders_buyers import API, Buyer, flash_sale, make_buyers
from o2o.bench.orders_check import Verdict, check_sale
from o2o.bench.orders_data import BenchDatabase, Shop, add_variant, seed
from o2o.bench.orders_load import LoadResult, Pick, closed_loop, hot, open_loop, zipf_pick
from o2o.bench.orders_pgbench import (
    SCRIPTS,
    SERVER,
    PgbenchResult,
    pgbench,
    pgbench_path,
    server_script,
)
from o2o.bench.orders_server import Server, api_server, cpu_seconds
from o2o.bench.orders_wrk import Targets, wrk_closed_loop, wrk_path
from o2o.core.db import Database
from o2o.core.idempotency import TTL as IDEMPOTENCY_TTL
from o2o.orders import placement_pg, reads_pg
from o2o.orders import queries as orders_queries
from o2o.orders.models import Fulfilment
from o2o.orders.policy import OrderPolicy
from o2o.orders.schemas import LineIn, OrderCreate

HTTP = "HTTP (uvicorn, {n} worker{s})"
CONDITIONAL, FOR_UPDATE = list(SCRIPTS)
HOT_STOCK = 1_000_000  # the most a level may hold; a throughput run takes far fewer


class Reporter(Protocol):
    def say(self, text: str) -> None: ...
    def phase(self, name: str, total: int) -> Callable[[], None]: ...


@dataclass(slots=True)
class Options:
    pg_admin_dsn: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    buyers: int = 1_000
    units: int = 100
    runs: int = 100
    small_buyers: int = 100
    small_units: int = 10
    workers: tuple[int, ...] = (1,)
    clients: int = 32
    seconds: float = 8.0
    reps: int = 3
    stores: int = 200
    products: int = 100
    sizes: int = 5
    zipf: float = 1.1
    seed: int = 20_240_601
    o2: bool = True
    client: str = "wrk"  # the throughput phases' load generator: "wrk" or "httpx"


@dataclass(slots=True)
class Sale:
    """One flash sale: what the buyers saw and what the database says."""

    seed: int
    seconds: float
    sold_out_s: float  # first request to the last new order (not a replay)
    verdict: Verdict
    p50_ms: float
    p99_ms: float

    def as_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "seconds": self.seconds, "sold_out_s": self.sold_out_s,
                "p50_ms": self.p50_ms, "p99_ms": self.p99_ms,
                **self.verdict.as_dict()}  # fmt: skip


@dataclass(slots=True)
class Series:
    """One system's repeated measurements of one workload."""

    workload: str
    system: str
    http: list[LoadResult] = field(default_factory=list)
    pg: list[PgbenchResult] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        values = [r.per_second for r in self.http] + [r.per_second for r in self.pg]
        return statistics.median(values) if values else 0.0

    def median(self, attr: str) -> float:
        values = [float(getattr(r, attr)) for r in self.http]
        return statistics.median(values) if values else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"workload": self.workload, "system": self.system,
                "per_second_median": self.per_second,
                "http": [r.as_dict() for r in self.http],
                "pgbench": [r.as_dict() for r in self.pg]}  # fmt: skip


@dataclass(slots=True)
class Report:
    options: Options
    big_sale: Sale | None = None
    small_sales: list[Sale] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    at_80: LoadResult | None = None

    def find(self, workload: str, system: str) -> Series | None:
        return next((s for s in self.series if s.workload == workload and s.system == system),
                    None)  # fmt: skip

    @property
    def violations(self) -> int:
        sales = [*self.small_sales, *([self.big_sale] if self.big_sale else [])]
        return sum(1 for s in sales if s.verdict.violations)

    def as_dict(self) -> dict[str, Any]:
        return {"options": {f: getattr(self.options, f) for f in self.options.__slots__
                            if f != "pg_admin_dsn"},
                "big_sale": self.big_sale.as_dict() if self.big_sale else None,
                "small_sales": [s.as_dict() for s in self.small_sales],
                "violations": self.violations,
                "series": [s.as_dict() for s in self.series],
                "at_80_percent": self.at_80.as_dict() if self.at_80 else None}  # fmt: skip


def http_name(workers: int) -> str:
    return HTTP.format(n=workers, s="" if workers == 1 else "s")


def _latencies(buyers: list[Buyer]) -> tuple[float, float]:
    """p50/p99 of the answers that were not a client-side give-up."""
    samples = sorted(a.seconds * 1e3 for b in buyers for a in b.answers if a.status)
    if not samples:
        return 0.0, 0.0
    return samples[len(samples) // 2], samples[min(len(samples) - 1, int(len(samples) * 0.99))]


async def one_sale(
    db: Database, base_url: str, shop: Shop, *, buyers: int, units: int, seed: int,
    variant_id: int | None = None,
) -> Sale:  # fmt: skip
    """A flash sale of ``units`` units (a fresh level unless ``variant_id``) to ``buyers``."""
    rng = random.Random(seed)
    variant = variant_id or await add_variant(db, shop, on_hand=units, label=f"s{seed}")
    crowd = make_buyers(shop.tokens, buyers, rng)
    body = {"store_id": shop.store_ids[0], "fulfilment": "pickup",
            "lines": [{"variant_id": variant, "qty": 1}]}  # fmt: skip
    started = time.perf_counter()
    seconds = await flash_sale(base_url, crowd, body, rng)
    new = [a.done_at for b in crowd for a in b.answers if a.status == 201 and not a.replayed]
    async with db.session() as session:
        verdict = await check_sale(session, store_id=shop.store_ids[0], variant_id=variant,
                                   units=units, buyers=crowd)  # fmt: skip
    p50, p99 = _latencies(crowd)
    return Sale(seed, seconds, max(new, default=started) - started, verdict, p50, p99)


async def _o1_sales(opts: Options, out: Reporter, db: Database, url: str, report: Report) -> None:
    shop = await seed(db, buyers=opts.buyers, on_hand=opts.units)
    async with api_server(url, workers=opts.workers[0]) as server:
        out.say(f"O1: {opts.buyers:,} buyers, {opts.units} units, one uvicorn worker")
        report.big_sale = await one_sale(db, server.base_url, shop, buyers=opts.buyers,
                                         units=opts.units, seed=opts.seed,
                                         variant_id=shop.variant_ids[0])  # fmt: skip
        tick = out.phase(f"O1: {opts.runs} randomized sales of {opts.small_units} units to "
                         f"{opts.small_buyers} buyers", opts.runs)  # fmt: skip
        for run in range(opts.runs):
            report.small_sales.append(
                await one_sale(db, server.base_url, shop, buyers=opts.small_buyers,
                               units=opts.small_units, seed=opts.seed + 1 + run)
            )  # fmt: skip
            tick()


def _own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _throughput(
    opts: Options, server: Server, *, name: str, shop: Shop, pick: Pick, targets: Targets,
    seed: int,
) -> LoadResult:  # fmt: skip
    """One closed-loop repetition, with the server's and the load generator's CPU per order
    (CPU seconds are robust where wall-clock rates are not: other work shares the cores)."""
    server_before = cpu_seconds(server.pid)
    if opts.client == "wrk":
        result, client_cpu = await wrk_closed_loop(
            server.base_url, name=name, tokens=shop.tokens, targets=targets,
            clients=opts.clients, seconds=opts.seconds,
        )  # fmt: skip
    else:
        own = _own_cpu()
        result = await closed_loop(server.base_url, name=name, tokens=shop.tokens, pick=pick,
                                   clients=opts.clients, seconds=opts.seconds,
                                   seed=seed)  # fmt: skip
        client_cpu = _own_cpu() - own
    server_cpu = cpu_seconds(server.pid) - server_before
    per = 1e3 / result.ok if result.ok else 0.0
    return dataclasses.replace(result, server_cpu_ms=server_cpu * per,
                               client_cpu_ms=client_cpu * per, client=opts.client)  # fmt: skip


async def server_pgbench_script(db: Database, shop: Shop) -> tuple[str, dict[str, str]]:
    """The server's statements for one real order (drawn, never sent) as a pgbench script."""
    data = OrderCreate(store_id=shop.store_ids[0], fulfilment=Fulfilment.PICKUP,
                       lines=[LineIn(variant_id=shop.variant_ids[0], qty=1)])  # fmt: skip
    async with db.session() as session:
        statement = await placement_pg.prepare(
            session, shopper_id=shop.shopper_ids[0], data=data, policy=OrderPolicy(),
            once=placement_pg.Once(f"user:{shop.shopper_ids[0]}|POST {API}", "sample",
                                   "0" * 64, IDEMPOTENCY_TTL),
            render=lambda placed: orders_queries.placed_views(placed)[0].model_dump(mode="json"),
        )  # fmt: skip
        await session.rollback()
    if statement is None:
        raise RuntimeError("the sample order did not take the one-statement path")
    return server_script(ids_sql=placement_pg.IDS, read_sql=reads_pg.sql(),
                         place_sql=placement_pg.sql(), names=placement_pg.parameter_names(),
                         args=statement.args)  # fmt: skip


async def _side_by_side(
    opts: Options, out: Reporter, db: Database, url: str, dsn: str, report: Report, *,
    workload: str, shop: Shop, pick: Pick, targets: Targets,
    variables: dict[str, int | float], zipf: bool,
) -> None:  # fmt: skip
    """HTTP (each worker count) and pgbench (each script), alternating, ``reps`` times."""
    server_sql, constants = await server_pgbench_script(db, shop)
    scripts = {**SCRIPTS, SERVER: server_sql}
    systems = [http_name(w) for w in opts.workers] + list(scripts)
    series = {name: Series(workload, name) for name in systems}
    report.series += series.values()
    tick = out.phase(f"{workload}: {opts.reps} × ({len(systems)} systems × {opts.seconds:g} s)",
                     opts.reps * len(systems))  # fmt: skip
    for workers in opts.workers:
        async with api_server(url, workers=workers) as server:
            for rep in range(opts.reps):
                series[http_name(workers)].http.append(
                    await _throughput(opts, server, name=http_name(workers), shop=shop,
                                      pick=pick, targets=targets, seed=opts.seed + rep)
                )  # fmt: skip
                tick()
                if workers == opts.workers[0]:  # pgbench between the HTTP reps, same noise
                    for name, script in scripts.items():
                        series[name].pg.append(
                            await pgbench(dsn, name=name, script=script,
                                          variables={**variables, **constants},
                                          clients=opts.clients, seconds=opts.seconds, zipf=zipf)
                        )  # fmt: skip
                        tick()
            if workload == "O2" and workers == opts.workers[0]:
                saturation = series[http_name(workers)].per_second
                rate = 0.8 * saturation
                out.say(f"O2: open loop at 80 % of saturation ({rate:,.0f} orders/s)")
                report.at_80 = await open_loop(
                    server.base_url, name="HTTP at 80 %", tokens=shop.tokens, pick=pick,
                    rate=rate, seconds=opts.seconds * 2, seed=opts.seed,
                )  # fmt: skip


def _variables(shop: Shop) -> dict[str, int | float]:
    return {"region": shop.region_id, "merchant": shop.merchant_id,
            "store": shop.store_ids[0], "stores": len(shop.store_ids),
            "variant": shop.variant_ids[0], "variants": len(shop.variant_ids),
            "product": shop.product_ids[0], "shopper": shop.shopper_ids[0]}  # fmt: skip


async def run(opts: Options, out: Reporter) -> Report:
    """Every phase on fresh databases, dropped afterwards."""
    pgbench_path()  # fail early, saying what to install
    if opts.client == "wrk":
        wrk_path()
    report = Report(opts)
    async with BenchDatabase(opts.pg_admin_dsn) as bdb:
        db = Database.from_url(bdb.url)
        try:
            if opts.runs or opts.buyers:
                await _o1_sales(opts, out, db, bdb.url, report)
        finally:
            await db.dispose()
    async with BenchDatabase(opts.pg_admin_dsn) as bdb:
        db = Database.from_url(bdb.url)
        try:
            shop = await seed(db, buyers=max(opts.clients, 100), on_hand=HOT_STOCK)
            level = (shop.store_ids[0], shop.variant_ids[0])
            out.say(f"O1 throughput: one hot level, {opts.clients} clients")
            await _side_by_side(opts, out, db, bdb.url, bdb.dsn, report, workload="O1",
                                shop=shop, pick=hot(*level), variables=_variables(shop),
                                targets=Targets([level[0]], [level[1]]),
                                zipf=False)  # fmt: skip
        finally:
            await db.dispose()
    if not opts.o2:
        return report
    async with BenchDatabase(opts.pg_admin_dsn) as bdb:
        db = Database.from_url(bdb.url)
        try:
            levels = opts.stores * opts.products * opts.sizes
            out.say(f"O2: seeding {opts.stores:,} stores × {opts.products * opts.sizes:,} "
                    f"variants = {levels:,} stock levels")  # fmt: skip
            shop = await seed(db, stores=opts.stores, products=opts.products, sizes=opts.sizes,
                              buyers=1_000, on_hand=HOT_STOCK)  # fmt: skip
            variables = {**_variables(shop), "zipf": opts.zipf}
            pick = zipf_pick(shop.store_ids, shop.variant_ids, opts.zipf)
            await _side_by_side(opts, out, db, bdb.url, bdb.dsn, report, workload="O2",
                                shop=shop, pick=pick, variables=variables, zipf=True,
                                targets=Targets(shop.store_ids, shop.variant_ids, opts.zipf),
                                )  # fmt: skip
        finally:
            await db.dispose()
    return report
