"""The nearby endpoint through HTTP against the same query called directly.

The server is the real app (``o2o.bootstrap:create_app``) under uvicorn in a subprocess, on
the PostgreSQL benchmark database; the load generator is an async httpx client with a fixed
number of requests in flight. The direct run calls ``nearby_stores`` with the same number of
concurrent sessions, so the difference is what HTTP, JSON and the framework add. Both run on
the same cores as the database, so the figures are a ratio, not a capacity.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from o2o.bench.geo_measure import percentiles_ms
from o2o.core.db import Database
from o2o.merchants.queries import nearby_stores

API = "/api/v1/stores/nearby"


@dataclass(slots=True)
class Throughput:
    system: str
    requests: int
    errors: int
    per_second: float
    p50_ms: float
    p99_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _drive(
    name: str, call: Callable[[int], Awaitable[bool]], n_points: int, *, seconds: float,
    concurrency: int,
) -> Throughput:  # fmt: skip
    """Keep ``concurrency`` calls in flight for ``seconds``; time each one."""
    samples: list[int] = []
    errors = 0
    counter = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors, counter
        while time.perf_counter() < deadline:
            i = counter % n_points
            counter += 1
            t0 = time.perf_counter_ns()
            ok = await call(i)
            samples.append(time.perf_counter_ns() - t0)
            errors += not ok

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    p50, _p95, p99 = percentiles_ms(samples)
    return Throughput(name, len(samples), errors, len(samples) / elapsed, p50, p99)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_ready(client: httpx.AsyncClient, proc: asyncio.subprocess.Process) -> None:
    for _ in range(200):
        if proc.returncode is not None:
            raise RuntimeError(f"the API server exited with code {proc.returncode}")
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the API server did not become ready")


async def http_vs_direct(
    database_url: str,
    lat: list[float],
    lng: list[float],
    *,
    radius_m: float,
    k: int,
    seconds: float,
    concurrency: int = 16,
    expected: Callable[[int], list[int]] | None = None,
) -> list[Throughput]:
    """Requests/s and latency of the endpoint (one uvicorn worker) and of the direct call."""
    results: list[Throughput] = []
    db = Database.from_url(database_url)

    async def direct(i: int) -> bool:
        async with db.session() as session:
            page = await nearby_stores(session, lat=lat[i], lng=lng[i], radius_m=radius_m, limit=k)
        return expected is None or [s.id for s in page.items] == expected(i)

    try:
        await _drive("direct call", direct, len(lat), seconds=1.0, concurrency=concurrency)
        results.append(
            await _drive("direct call", direct, len(lat), seconds=seconds, concurrency=concurrency)
        )
    finally:
        await db.dispose()

    port = _free_port()
    env = {**os.environ, "O2O_DATABASE_URL": database_url}
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "o2o.bootstrap:create_app",
           "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
           "--no-access-log"]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(*cmd, env=env)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
        ) as client:
            await _wait_ready(client, proc)

            async def over_http(i: int) -> bool:
                params = {"lat": lat[i], "lng": lng[i], "radius_m": radius_m, "limit": k}
                response = await client.get(API, params=params)
                if response.status_code != 200:
                    return False
                ids = [item["id"] for item in response.json()["items"]]
                return expected is None or ids == expected(i)

            await _drive("HTTP", over_http, len(lat), seconds=1.0, concurrency=concurrency)
            results.append(
                await _drive("HTTP (uvicorn, 1 worker)", over_http, len(lat), seconds=seconds,
                             concurrency=concurrency)
            )  # fmt: skip
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), timeout=10)
    return results
