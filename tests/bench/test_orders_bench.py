"""The flash-sale checker on tiny sales through a real server on PostgreSQL (no timings)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from o2o.bench.orders import Options, Report, Sale, one_sale, server_pgbench_script
from o2o.bench.orders_buyers import BEHAVIOURS, Answer, Buyer, make_buyers
from o2o.bench.orders_check import Verdict
from o2o.bench.orders_data import BenchDatabase, seed
from o2o.bench.orders_load import open_loop, zipf_pick
from o2o.bench.orders_pgbench import SERVER, parse, pgbench
from o2o.bench.orders_report import markdown, targets, write_section
from o2o.bench.orders_server import api_server
from o2o.core.db import Database
from o2o.core.idempotency_models import IdempotencyRecord
from o2o.inventory.models import StockLevel
from o2o.orders.models import Order
from tests.conftest import PG_ADMIN_DSN, REQUIRE_SERVICES, _pg_available


async def _require_pg() -> None:
    problem = await _pg_available()
    if problem:
        if REQUIRE_SERVICES:
            pytest.fail(f"PostgreSQL is required ({problem})")
        pytest.skip(f"PostgreSQL is not reachable ({problem})")


async def test_tiny_flash_sales_break_no_invariant() -> None:
    # Given a server on a fresh PostgreSQL database
    await _require_pg()
    async with BenchDatabase(PG_ADMIN_DSN, prefix="o2o_test_bench") as bdb:
        db = Database.from_url(bdb.url)
        try:
            shop = await seed(db, buyers=30, on_hand=5)
            async with api_server(bdb.url) as server:
                # When 30 misbehaving buyers rush 5 units, three times
                sales = [
                    await one_sale(db, server.base_url, shop, buyers=30, units=5, seed=s)
                    for s in range(3)
                ]
        finally:
            await db.dispose()
    # Then every unit is sold exactly once and nothing is broken
    for sale in sales:
        assert sale.verdict.violations == [], sale.verdict.violations
        assert sale.verdict.sold == 5
        assert sale.verdict.refused == 25
        assert sale.verdict.requests > 30  # retries and twins really happened
    # And the open-loop generator (the O2 latency phase) places what it sends
    async with BenchDatabase(PG_ADMIN_DSN, prefix="o2o_test_bench") as bdb:
        db = Database.from_url(bdb.url)
        try:
            shop = await seed(db, stores=2, products=3, sizes=2, buyers=10, on_hand=1000)
            pick = zipf_pick(shop.store_ids, shop.variant_ids, 1.1)
            async with api_server(bdb.url) as server:
                result = await open_loop(server.base_url, name="open", tokens=shop.tokens,
                                         pick=pick, rate=40, seconds=1.0, seed=7,
                                         max_connections=4)  # fmt: skip
        finally:
            await db.dispose()
    assert result.errors == {}
    assert result.ok == round(result.offered_per_second * 1.0) > 10
    assert 1 <= result.clients <= 4
    assert result.client == "rawhttp"
    assert result.p50_ms <= result.p99_ms


def test_buyers_are_reproducible_from_the_seed() -> None:
    a = make_buyers(["t"], 200, random.Random(1))
    b = make_buyers(["t"], 200, random.Random(1))
    assert [(x.key, x.behaviour) for x in a] == [(y.key, y.behaviour) for y in b]
    assert {x.behaviour for x in a} == set(BEHAVIOURS)
    assert len({x.key for x in a}) == 200


def test_one_key_with_two_orders_is_reported() -> None:
    from o2o.bench.orders_check import _answers_agree

    buyer = Buyer(0, "t", "k", "twin", [Answer(201, order_id=1), Answer(201, order_id=2)])
    assert "2 different orders" in (_answers_agree(buyer) or "")
    same = Buyer(0, "t", "k", "twin", [Answer(201, order_id=1, body=b"x")] * 2)
    assert _answers_agree(same) is None


def test_zipf_pick_favours_the_first_variants() -> None:
    pick = zipf_pick([1, 2, 3], list(range(10, 110)), 1.1)
    rng = random.Random(3)
    seen = [pick(rng)[1] for _ in range(5_000)]
    assert seen.count(10) > seen.count(11) > seen.count(60)
    assert {s for s, _v in (pick(rng) for _ in range(200))} == {1, 2, 3}


def test_pgbench_summary_is_parsed() -> None:
    out = (
        "number of transactions actually processed: 2040\n"
        "number of failed transactions: 0 (0.000%)\n"
        "latency average = 15.685 ms\n"
        "tps = 1020.162 (without initial connection time)\n"
    )
    r = parse("x", 16, 2.0, out)
    assert (r.transactions, r.failed, r.per_second, r.latency_avg_ms) == (2040, 0, 1020.162, 15.685)


def test_report_section_names_a_violation_and_is_replaced_in_place(tmp_path: Path) -> None:
    bad = Sale(7, 1.0, 0.5, Verdict(10, 100, 11, 89, 150, ["oversold: 11 units taken of 10"]),
               5.0, 9.0)  # fmt: skip
    report = Report(Options(runs=1), big_sale=None, small_sales=[bad])
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nkept\n")
    write_section(doc, markdown(report, "o2o bench orders --runs 1"))
    write_section(doc, markdown(report, "o2o bench orders --runs 1"))
    text = doc.read_text()
    assert "kept" in text
    assert text.count("o2o bench orders: start") == 1
    assert "seed 7: oversold: 11 units taken of 10" in text
    assert targets(report)[0] == (
        "O1: 0 oversold, 0 unsold while refused, 0 duplicate orders "
        "(1 of 1 sales broke an invariant)",
        False,
    )


def test_wrk_result_line_is_parsed_and_only_201s_count() -> None:
    from o2o.bench.orders_wrk import parse

    output = (
        "Running 8s test @ http://127.0.0.1:8000/api/v1/orders\n"
        'O2O-RESULT {"ok":800,"us":8000000,"p50":12500,"p95":30000,"p99":41000,'
        '"errors":{"503":3,"timeout":1}}\n'
    )
    r = parse(output, name="HTTP", clients=32)
    assert (r.ok, r.failed, r.per_second) == (800, 4, 100.0)
    assert (r.p50_ms, r.p95_ms, r.p99_ms) == (12.5, 30.0, 41.0)
    assert r.errors == {"503": 3, "timeout": 1}


def test_wrk_without_a_result_is_an_error() -> None:
    from o2o.bench.orders_wrk import parse

    with pytest.raises(RuntimeError, match="wrk gave no result"):
        parse("orders.lua:25: unexpected symbol\n", name="HTTP", clients=32)


def test_wrk_script_sends_to_the_hot_level_only() -> None:
    from o2o.bench.orders_wrk import Targets, script

    hot = script(Targets([7, 8], [70, 80]), ["tok-a", "tok-b"])
    assert "local stores = {7}" in hot
    assert "local variants = {70}" in hot
    assert 'local tokens = {"tok-a","tok-b"}' in hot
    spread = script(Targets([7, 8], [70, 80], zipf=1.1), ["tok-a"])
    assert "local stores = {7,8}" in spread
    assert "local s = 1.1" in spread


async def test_the_server_statements_ceiling_writes_real_orders() -> None:
    """pgbench's version of the server's fast path places an order per transaction, as the
    server does (a script that wrote nothing would make a ceiling too easy to reach)."""
    await _require_pg()
    async with BenchDatabase(PG_ADMIN_DSN, prefix="o2o_test_bench") as bdb:
        db = Database.from_url(bdb.url)
        try:
            shop = await seed(db, stores=2, products=3, sizes=2, buyers=3, on_hand=1000)
            script, constants = await server_pgbench_script(db, shop)
            variables = {"region": shop.region_id, "merchant": shop.merchant_id,
                         "store": shop.store_ids[0], "stores": 2,
                         "variant": shop.variant_ids[0], "variants": len(shop.variant_ids),
                         "product": shop.product_ids[0], "shopper": shop.shopper_ids[0],
                         "zipf": 1.1, **constants}  # fmt: skip
            result = await pgbench(bdb.dsn, name=SERVER, script=script, variables=variables,
                                   clients=2, seconds=1, zipf=True)  # fmt: skip
            async with db.session() as session:
                orders = await session.scalar(select(func.count()).select_from(Order))
                reserved = await session.scalar(select(func.sum(StockLevel.reserved)))
                keys = await session.scalar(select(func.count()).select_from(IdempotencyRecord))
        finally:
            await db.dispose()
    assert result.failed == 0
    assert result.transactions > 0
    assert orders == reserved == keys == result.transactions
