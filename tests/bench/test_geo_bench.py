"""The geo benchmark's correctness checks, on tiny data (timings are never asserted)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.bench import geo
from o2o.bench.geo_data import CLASSES, Scale, cells_of, generate
from o2o.bench.geo_load import load_pg
from o2o.bench.geo_measure import Result
from o2o.bench.geo_oracle import Oracle, haversine_np
from o2o.bench.geo_report import markdown, targets, write_section
from o2o.core.db import create_engine
from o2o.geo.distance import haversine_m
from o2o.geo.grid import cell_of
from tests.conftest import PG_ADMIN_DSN, _pg_available, drop_pg_database

TINY = Scale(stores=400, stock=4_000, products=400, queries=40, seed=7)


def test_generator_is_deterministic() -> None:
    a, b = generate(TINY), generate(TINY)
    assert np.array_equal(a.store_lat, b.store_lat)
    assert np.array_equal(a.stock_variant, b.stock_variant)
    assert np.array_equal(a.query_lng, b.query_lng)
    other = generate(Scale(**{**_fields(TINY), "seed": 8}))
    assert not np.array_equal(a.store_lat, other.store_lat)


def _fields(scale: Scale) -> dict[str, int]:
    return {f: getattr(scale, f) for f in ("stores", "stock", "products", "queries", "seed")}


def test_generator_shape() -> None:
    data = generate(TINY)
    assert len(data.store_lat) == TINY.stores
    assert set(data.class_variants) == set(CLASSES)
    # No store carries the same variant twice (the schema's unique constraint).
    pairs = data.stock_store * 1_000_000 + data.stock_variant
    assert len(np.unique(pairs)) == len(pairs)
    assert (data.stock_reserved <= data.stock_on_hand).all()
    assert (data.stock_available >= 0).all()
    sizes = {c: (data.stock_variant == data.class_variants[c][0]).sum() for c in CLASSES}
    assert sizes["common"] > sizes["medium"] >= sizes["rare"]


def test_vectorised_cells_match_the_grid() -> None:
    data = generate(TINY)
    cells = cells_of(data.store_lat, data.store_lng)
    for i in range(0, TINY.stores, 37):
        assert cells[i] == cell_of(float(data.store_lat[i]), float(data.store_lng[i]))


def test_numpy_haversine_matches_the_scalar_one() -> None:
    data = generate(TINY)
    d = haversine_np(30.0, 110.0, data.store_lat, data.store_lng)
    for i in range(0, TINY.stores, 23):
        expected = haversine_m(30.0, 110.0, float(data.store_lat[i]), float(data.store_lng[i]))
        assert d[i] == pytest.approx(expected, abs=1e-6)


def test_oracle_matches_brute_force() -> None:
    data = generate(TINY)
    oracle = Oracle(data)
    lat, lng = float(data.query_lat[0]), float(data.query_lng[0])
    ids, dist = oracle.nearest(lat, lng, 50_000, 20)
    scan = sorted(
        (haversine_m(lat, lng, float(la), float(ln)), i + 1)
        for i, (la, ln) in enumerate(zip(data.store_lat, data.store_lng, strict=True))
        if data.store_active[i]
    )
    expected = [(d, i) for d, i in scan if d <= 50_000][:20]
    assert ids.tolist() == [i for _d, i in expected]
    assert dist.tolist() == pytest.approx([d for d, _i in expected])


def test_oracle_for_a_variant_keeps_only_available_stock_at_active_stores() -> None:
    data = generate(TINY)
    oracle = Oracle(data)
    variant = int(data.class_variants["common"][0])
    ids = set(oracle.candidates(variant).tolist())
    rows = data.stock_variant == variant
    for store, available in zip(data.stock_store[rows], data.stock_available[rows], strict=True):
        assert (int(store) in ids) == (available >= 1 and bool(data.store_active[store - 1]))


def test_grading() -> None:
    data = generate(TINY)
    oracle = Oracle(data)
    lat, lng = float(data.query_lat[1]), float(data.query_lng[1])
    truth = oracle.nearest(lat, lng, 50_000, 10)
    right = truth[0].tolist()

    def grade(got: list[int]) -> tuple[float, int]:
        g = oracle.grade(lat, lng, 50_000, None, got, truth)
        return g.recall, g.exact

    assert grade(right) == (1.0, 1)
    assert grade(right[:-1]) == (0.9, 0)
    assert grade([right[1], right[0], *right[2:]]) == (1.0, 0)  # same set, wrong order
    assert grade([*right[:-1], right[0]]) == (0.9, 0)  # a duplicate is not a new find
    inactive = int(np.flatnonzero(~data.store_active)[0]) + 1
    assert grade([*right[:-1], inactive]) == (0.9, 0)  # not a valid answer


def test_grading_accepts_swapped_ties() -> None:
    data = generate(TINY)
    oracle = Oracle(data)
    # Two stores at the very same place are a tie: either order is right.
    data.store_lat[1], data.store_lng[1] = data.store_lat[0], data.store_lng[0]
    data.store_active[:2] = True
    oracle = Oracle(data)
    lat, lng = float(data.store_lat[0]) + 0.001, float(data.store_lng[0])
    truth = oracle.nearest(lat, lng, 1_000, 2)
    assert sorted(truth[0].tolist()) == [1, 2]
    g = oracle.grade(lat, lng, 1_000, None, [2, 1], truth)
    assert (g.recall, g.exact) == (1.0, 1)


class _Quiet:
    def say(self, text: str) -> None:
        pass

    def phase(self, name: str, total: int):  # type: ignore[no-untyped-def]
        return lambda: None


async def test_tiny_run_on_sqlite_has_full_recall(tmp_path: Path) -> None:
    options = geo.Options(
        scale=TINY, data_dir=tmp_path, pg_admin_dsn=None, redis_url=None, reps=1, http_seconds=0
    )
    report = await geo.run(options, _Quiet())
    ours = [r for r in report.results if r.system == geo.OURS_SQLITE]
    assert {r.workload for r in ours} == {"G1", *(f"G2 {c}" for c in CLASSES)}
    assert all(r.recall == 1.0 and r.exact == 1.0 for r in ours)
    oracle = [r for r in report.results if r.system == geo.ORACLE]
    assert all(r.recall == 1.0 and r.exact == 1.0 for r in oracle)
    assert next(ok for text, ok in targets(report) if text.startswith("recall"))
    # A second run reuses the cached file instead of reloading it.
    again = await geo.run(options, _Quiet())
    assert [r.recall for r in again.results] == [r.recall for r in report.results]


def test_report_section_is_replaced_in_place(tmp_path: Path) -> None:
    result = Result("G1", geo.OURS_SQLITE, 1.0, 1.0, 0.1, 0.2, 0.3, reps=1)
    report = geo.Report(geo.Options(scale=TINY), [result], [])
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nkept\n")
    write_section(doc, markdown(report, "o2o bench geo --stores 400"))
    write_section(doc, markdown(report, "o2o bench geo --stores 400"))
    text = doc.read_text()
    assert "kept" in text
    assert text.count("o2o bench geo: start") == 1
    assert "| ours · SQLite | 100.00% | 100.00% | 0.100 | 0.200 | 0.300 |" in text


async def test_ours_matches_the_oracle_on_postgresql() -> None:
    """The PostgreSQL statements (LATERAL ranges, probe, opaque parameters) on tiny data."""
    problem = await _pg_available()
    if problem:
        pytest.skip(f"PostgreSQL is not reachable ({problem})")
    data = generate(TINY)
    oracle = Oracle(data)
    dsn = await load_pg(data, PG_ADMIN_DSN, reload=True, say=lambda _text: None)
    url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_engine(url)
    try:
        async with AsyncSession(engine) as session:
            # k=2 makes the probe's wide part overflow in cities, so later steps run too.
            works = [
                w
                for k in (20, 2)
                for w in geo.workloads(data, oracle, geo.Options(scale=TINY, radius_m=20_000, k=k))
            ]
            for work in works:
                query = geo.ours(session, work)
                for i in range(len(work)):
                    got = await query(i)
                    grade = oracle.grade(
                        work.lat[i], work.lng[i], work.radius_m, work.variant(i), got, work.truth[i]
                    )
                    assert grade.exact == 1, (work.name, i)
    finally:
        await engine.dispose()
        await drop_pg_database(url)
