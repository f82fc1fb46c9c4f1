"""Sustained order traffic through HTTP: closed loop (saturation) and open loop (a fixed rate).

Closed loop: ``clients`` buyers each place an order, wait for the answer, place the next, for
``seconds``; successful orders/s is the saturation throughput, comparable with pgbench's
tps at the same client count. Open loop: orders arrive at a fixed rate whatever the server
does (arrivals do not wait for answers, as real shoppers do not), so the latency at 80 % of
saturation includes any queueing the server builds up.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from o2o.bench import rawhttp
from o2o.bench.geo_measure import percentiles_ms
from o2o.bench.orders_buyers import API, client_for

Pick = Callable[[random.Random], tuple[int, int]]  # (store_id, variant_id)


@dataclass(slots=True)
class LoadResult:
    name: str
    clients: int
    seconds: float
    ok: int
    failed: int
    per_second: float  # successful orders per second
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: dict[str, int]
    offered_per_second: float = 0.0  # open loop only
    server_cpu_ms: float = 0.0  # the server's CPU per successful order (all its processes)
    client_cpu_ms: float = 0.0  # the load generator's CPU per successful order
    client: str = "httpx"
    lag_p99_ms: float = 0.0  # open loop: p99 of how late orders went out (this side)

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__slots__}


def hot(store_id: int, variant_id: int) -> Pick:
    return lambda _rng: (store_id, variant_id)


def zipf_pick(store_ids: list[int], variant_ids: list[int], s: float) -> Pick:
    """A store uniformly, a variant by bounded Zipf popularity (rank 1 most popular), like
    pgbench's ``random_zipfian``."""
    weights = [1.0 / (rank**s) for rank in range(1, len(variant_ids) + 1)]
    cdf = list(itertools.accumulate(weights))
    total = cdf[-1]

    def pick(rng: random.Random) -> tuple[int, int]:
        v = bisect.bisect_left(cdf, rng.random() * total)
        return rng.choice(store_ids), variant_ids[min(v, len(variant_ids) - 1)]

    return pick


class _Tally:
    def __init__(self) -> None:
        self.samples: list[int] = []
        self.errors: Counter[str] = Counter()
        self.ok = 0

    async def order(self, client: httpx.AsyncClient, token: str, target: tuple[int, int]) -> None:
        body = {"store_id": target[0], "fulfilment": "pickup",
                "lines": [{"variant_id": target[1], "qty": 1}]}  # fmt: skip
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
        t0 = time.perf_counter_ns()
        try:
            response = await client.post(API, json=body, headers=headers)
        except httpx.TransportError as exc:
            self.errors[type(exc).__name__] += 1
            return
        if response.status_code == 201:
            self.samples.append(time.perf_counter_ns() - t0)
            self.ok += 1
        else:
            self.errors[f"{response.status_code} {response.text[:60]}"] += 1

    def result(self, name: str, clients: int, elapsed: float, offered: float = 0.0) -> LoadResult:
        p50, p95, p99 = percentiles_ms(self.samples) if self.samples else (0.0, 0.0, 0.0)
        return LoadResult(name, clients, elapsed, self.ok, sum(self.errors.values()),
                          self.ok / elapsed, p50, p95, p99, dict(self.errors),
                          offered)  # fmt: skip


async def closed_loop(
    base_url: str, *, name: str, tokens: list[str], pick: Pick, clients: int, seconds: float,
    seed: int,
) -> LoadResult:  # fmt: skip
    """``clients`` buyers ordering back to back for ``seconds``."""
    tally = _Tally()
    deadline = time.perf_counter() + seconds

    async def buyer(i: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(seed * 1_000_003 + i)
        token = tokens[i % len(tokens)]
        while time.perf_counter() < deadline:
            await tally.order(client, token, pick(rng))

    async with client_for(base_url, clients) as client:
        started = time.perf_counter()
        await asyncio.gather(*(buyer(i, client) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return tally.result(name, clients, elapsed)


async def open_loop(
    base_url: str, *, name: str, tokens: list[str], pick: Pick, rate: float, seconds: float,
    seed: int, max_connections: int = 256,
) -> LoadResult:  # fmt: skip
    """Orders arriving at ``rate`` per second (Poisson) for ``seconds``; latency per order,
    measured from when the order was *due*, so that any wait for a free connection on this
    side counts too (no coordinated omission). Requests go through ``bench.rawhttp``, whose
    few tens of microseconds per request keep the generator from setting the pace; how late
    orders went out is reported beside the result (``lag_p99_ms``)."""
    tally = _Tally()
    rng = random.Random(seed)
    pool = rawhttp.Pool(base_url, max_connections)
    lags: list[int] = []

    async def order(due_ns: int, token: str, target: tuple[int, int]) -> None:
        body = json.dumps({"store_id": target[0], "fulfilment": "pickup",
                           "lines": [{"variant_id": target[1], "qty": 1}]}).encode()  # fmt: skip
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex,
                   "Content-Type": "application/json"}  # fmt: skip
        async with pool.connection() as conn:
            lags.append(time.perf_counter_ns() - due_ns)
            try:
                answer = await conn.request("POST", base_url + API, headers=headers, body=body)
            except rawhttp.HttpError as exc:
                tally.errors[type(exc).__name__] += 1
                return
        if answer.status == 201:
            tally.samples.append(time.perf_counter_ns() - due_ns)
            tally.ok += 1
        else:
            tally.errors[f"{answer.status} {answer.body[:60].decode(errors='replace')}"] += 1

    tasks: set[asyncio.Task[None]] = set()
    sent = 0
    started = time.perf_counter()
    due = started
    while due < started + seconds:
        due += rng.expovariate(rate)
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        task = asyncio.create_task(order(int(due * 1e9), tokens[sent % len(tokens)], pick(rng)))
        sent += 1
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    await pool.close()
    result = tally.result(name, pool.opened, elapsed, offered=sent / seconds)
    result.lag_p99_ms = percentiles_ms(lags)[2] if lags else 0.0
    result.client = "rawhttp"
    return result
