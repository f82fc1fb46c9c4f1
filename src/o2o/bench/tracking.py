"""``o2o bench tracking`` (C1): courier positions in, live tracking out, across two processes.

Side by side in one run: our API (positions posted to one process, the shopper's tracking
stream read from another, Redis between them), a bare Starlette broadcaster doing only the
same trip (``tracking_bare``), and ``redis-benchmark`` PUBLISH as the ceiling of Redis
itself. Each server's CPU seconds are read from ``/proc`` so the cost per position can be
compared on this shared machine, not only the wall-clock rates.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

from o2o.bench import tracking_world
from o2o.bench.orders_data import BenchDatabase
from o2o.bench.orders_server import Server, free_port, serve
from o2o.bench.tracking_load import Outcome, Target, Watched, epoch_of, newest, run
from o2o.core.db import Database

OURS_NAMES = {
    "post": "ours (API + PostgreSQL + Redis)",
    "ws": "ours, couriers on a WebSocket",
}


@dataclass(frozen=True)
class Measured:
    outcome: Outcome
    server_cpu_s: list[float]  # ingesting process, watching process

    @property
    def cpu_ms_per_position(self) -> float:
        sent = self.outcome.positions_sent
        return sum(self.server_cpu_s) * 1000 / sent if sent else float("nan")


@asynccontextmanager
async def uvicorn_process(factory: str, env: dict[str, str]) -> AsyncIterator[Server]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--no-access-log",
               "--backlog", "4096"]  # fmt: skip
    async with serve(command, port, env) as server:
        yield server


async def measure(
    target: Target, pids: list[int], *, seconds: float, batch: int, interval: float
) -> Measured:
    outcome = await run(target, seconds=seconds, batch=batch, interval=interval, pids=tuple(pids))
    return Measured(outcome, outcome.server_cpu_s)


async def bare(
    redis_url: str, *, couriers: int, seconds: float, batch: int, interval: float
) -> Measured:
    """The bare broadcaster on two processes: post to one, watch on the other."""
    env = {"O2O_REDIS_URL": redis_url}
    async with AsyncExitStack() as stack:
        ingest = await stack.enter_async_context(
            uvicorn_process("o2o.bench.tracking_bare:create_app", env)
        )
        watch = await stack.enter_async_context(
            uvicorn_process("o2o.bench.tracking_bare:create_app", env)
        )
        target = Target(
            name="bare Starlette + Redis",
            transport="ws",
            couriers=[
                Watched(
                    f"{a.base_url}/positions/{i}", {}, f"{b.base_url}/watch/{i}", {}, 31.23, 121.47
                )
                for i, (a, b) in enumerate(_crossed(ingest, watch, couriers))
            ],
            body=lambda positions: {"positions": positions},
            stamp=_bare_stamp,
        )
        return await measure(
            target, [ingest.pid, watch.pid], seconds=seconds, batch=batch, interval=interval
        )


def _crossed(one: Server, other: Server, n: int) -> list[tuple[Server, Server]]:
    """(where courier i posts, where its watcher listens): half the couriers post to each
    process, and every watcher listens on the process its courier does not post to, so each
    position crosses from one process to the other through Redis."""
    return [(one, other) if i % 2 == 0 else (other, one) for i in range(n)]


def _bare_stamp(frame: dict[str, Any]) -> float | None:
    positions = frame.get("positions")
    return newest(positions) if isinstance(positions, list) else None


@dataclass(frozen=True)
class Ceiling:
    publishes_per_s: float
    p50_ms: float


def redis_publish_ceiling(redis_url: str, *, requests: int = 200_000) -> Ceiling | None:
    """``redis-benchmark`` PUBLISH of a batch-sized message, 50 clients; None without it."""
    tool = shutil.which("redis-benchmark")
    if tool is None:
        return None
    host, port = _host_port(redis_url)
    payload = '{"courier":1,"lat":31.230001,"lng":121.470001,"at":"2026-01-01T00:00:00+00:00"}'
    command = [tool, "-h", host, "-p", str(port), "-q", "-n", str(requests), "-c", "50"]
    command += ["PUBLISH", "bench:tracking", payload]
    done = subprocess.run(  # noqa: S603  # a fixed command line, no shell
        command, capture_output=True, text=True, check=False, timeout=300
    )
    found = re.search(r"([\d.]+) requests per second, p50=([\d.]+) msec", done.stdout)
    if found is None:
        return None
    return Ceiling(float(found.group(1)), float(found.group(2)))


def _host_port(redis_url: str) -> tuple[str, int]:
    found = re.match(r"redis://(?:[^@/]*@)?([^:/]+)(?::(\d+))?", redis_url)
    if found is None:
        raise ValueError(f"not a redis:// URL: {redis_url}")
    return found.group(1), int(found.group(2) or 6379)


def _ours_stamp(frame: dict[str, Any]) -> float | None:
    position = frame.get("position")
    if frame.get("type") != "tracking" or not isinstance(position, dict):
        return None
    return epoch_of(str(position["at"]))


async def ours(
    admin_dsn: str,
    redis_url: str,
    *,
    couriers: int,
    seconds: float,
    batch: int,
    interval: float,
    courier_transport: Literal["post", "ws"] = "post",
) -> Measured:
    """Our API on two processes over one PostgreSQL database and Redis: couriers post to
    ``POST /api/v1/couriers/me/positions`` on one (or, with ``courier_transport="ws"``, send
    their batches on ``/api/v1/couriers/me/positions/ws``), shoppers follow
    ``GET /api/v1/orders/{id}/tracking/stream`` on the other."""
    async with BenchDatabase(admin_dsn, prefix="o2o_bench_tracking") as bench:
        db = Database.from_url(bench.url)
        try:
            world = await tracking_world.seed(db, couriers=couriers)
        finally:
            await db.dispose()
        env = {"O2O_DATABASE_URL": bench.url, "O2O_REDIS_URL": redis_url,
               "O2O_WORKER_IN_PROCESS": "false", "O2O_SQL_ECHO": "false"}  # fmt: skip
        async with AsyncExitStack() as stack:
            ingest = await stack.enter_async_context(
                uvicorn_process("o2o.bootstrap:create_app", env)
            )
            watch = await stack.enter_async_context(
                uvicorn_process("o2o.bootstrap:create_app", env)
            )
            lat, lng = tracking_world.CENTRE
            shopper = {"authorization": f"Bearer {world.shopper_token}"}
            ingest_path = "/api/v1/couriers/me/positions"
            if courier_transport == "ws":
                ingest_path += "/ws"
            target = Target(
                name=OURS_NAMES[courier_transport],
                transport="sse",
                courier_transport=courier_transport,
                couriers=[
                    Watched(
                        f"{a.base_url}{ingest_path}",
                        {"authorization": f"Bearer {token}"},
                        f"{b.base_url}/api/v1/orders/{order_id}/tracking/stream",
                        shopper,
                        lat,
                        lng,
                    )
                    for token, order_id, (a, b) in zip(
                        world.courier_tokens,
                        world.order_ids,
                        _crossed(ingest, watch, couriers),
                        strict=True,
                    )
                ],
                body=lambda positions: {"positions": positions},
                stamp=_ours_stamp,
            )
            return await measure(
                target, [ingest.pid, watch.pid], seconds=seconds, batch=batch, interval=interval
            )
