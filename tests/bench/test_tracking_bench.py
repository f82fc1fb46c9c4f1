"""The tracking benchmark's plumbing: batches, stamps, CPU readings and a tiny bare run (its
timings are never asserted, only that every position sent arrives)."""

from __future__ import annotations

import os
import random
from datetime import datetime

import pytest

from o2o.bench.tracking import _host_port, bare, ours
from o2o.bench.tracking_load import Watched, batch_of, newest, proc_cpu_s
from tests.core.test_broker import _redis_broker

W = Watched("/p", {}, "/w", {}, 31.23, 121.47)


def test_a_batch_spans_the_interval_and_ends_now() -> None:
    positions = batch_of(W, 5, 1.0, 1_700_000_000.0, random.Random(1))
    stamps = [datetime.fromisoformat(p["at"]).timestamp() for p in positions]
    assert stamps == sorted(stamps)
    assert stamps[-1] == pytest.approx(1_700_000_000.0)
    assert stamps[0] == pytest.approx(1_700_000_000.0 - 0.8)
    assert newest(positions) == pytest.approx(1_700_000_000.0)
    assert all(abs(p["lat"] - W.lat) <= 0.002 for p in positions)


def test_cpu_of_this_process_is_read_from_proc() -> None:
    spent = proc_cpu_s(os.getpid())
    sum(i * i for i in range(200_000))
    assert proc_cpu_s(os.getpid()) > spent


def test_redis_urls_name_host_and_port() -> None:
    assert _host_port("redis://127.0.0.1:6380/0") == ("127.0.0.1", 6380)
    assert _host_port("redis://:secret@cache/2") == ("cache", 6379)
    with pytest.raises(ValueError, match="redis://"):
        _host_port("http://x")


async def test_every_position_of_a_tiny_bare_run_reaches_its_watcher() -> None:
    broker = await _redis_broker()  # fails in CI, skips locally, without Redis
    await broker.close()
    redis_url = os.environ.get("O2O_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    measured = await bare(redis_url, couriers=3, seconds=2.0, batch=4, interval=0.5)
    outcome = measured.outcome
    assert outcome.errors == []
    assert outcome.batches_refused == 0
    assert outcome.batches_sent >= 3 * 3  # about 4 per courier in 2 s
    assert outcome.positions_sent == 4 * outcome.batches_sent
    assert outcome.frames == outcome.batches_sent  # one frame per batch, none lost
    assert all(ms >= 0 for ms in outcome.screen_ms)
    assert len(measured.server_cpu_s) == 2


async def test_a_tiny_run_of_ours_with_couriers_on_the_websocket_loses_nothing() -> None:
    """Two API processes, PostgreSQL and Redis for real: every batch sent on a courier's
    WebSocket is accepted and its position reaches the shopper's stream on the other
    process."""
    from tests.conftest import PG_ADMIN_DSN, REQUIRE_SERVICES, _pg_available

    broker = await _redis_broker()  # fails in CI, skips locally, without Redis
    await broker.close()
    if (problem := await _pg_available()) is not None:
        if REQUIRE_SERVICES:
            pytest.fail(f"PostgreSQL is not reachable ({problem}). CI requires it.")
        pytest.skip(f"PostgreSQL is not reachable ({problem}).")
    redis_url = os.environ.get("O2O_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    measured = await ours(
        PG_ADMIN_DSN, redis_url, couriers=3, seconds=2.0, batch=4, interval=0.5,
        courier_transport="ws",
    )  # fmt: skip
    outcome = measured.outcome
    assert outcome.name == "ours, couriers on a WebSocket"
    assert outcome.errors == []
    assert outcome.batches_refused == 0
    assert outcome.batches_sent >= 3 * 3
    assert outcome.positions_sent == 4 * outcome.batches_sent
    assert outcome.frames == outcome.batches_sent
    assert outcome.loop_lag_ms  # the load generator's own lag was sampled


def test_the_report_grades_both_targets() -> None:
    from o2o.bench.tracking import Measured
    from o2o.bench.tracking_load import Outcome
    from o2o.bench.tracking_report import Report, markdown, targets

    fast = Outcome("ours", 10.0, batches_sent=5_000, positions_sent=25_000, frames=5_000)
    fast.screen_ms = [10.0] * 990 + [150.0] * 10
    slow = Outcome("ours", 10.0, batches_sent=2_000, positions_sent=10_000, frames=2_000)
    slow.screen_ms = [10.0] * 980 + [900.0] * 20
    graded = [
        [ok for _, ok in targets(Report(500, 5, 1.0, 10.0, [Measured(o, [1.0, 1.0])], None))]
        for o in (fast, slow)
    ]
    assert graded == [[True, True], [False, False]]
    text = markdown(Report(500, 5, 1.0, 10.0, [Measured(fast, [2.0, 3.0])], None), "o2o bench")
    assert "| ours | 2,500 | 0 | 5,000 | 0 |" in text
    assert "0.20 |" in text  # 5 CPU s over 25,000 positions
    both = Report(500, 5, 1.0, 10.0, [Measured(slow, [1.0, 1.0]), Measured(fast, [1.0, 1.0])],
                  None)  # fmt: skip
    fast.name = "ours, couriers on a WebSocket"
    assert [ok for _, ok in targets(both)] == [False, False, True, True]
    assert "(ours, couriers on a WebSocket)" in targets(both)[3][0]
