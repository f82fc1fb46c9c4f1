"""C1's load: couriers post batches of positions to one process, watchers on another read them.

Every courier sends a batch of ``batch`` positions every ``interval`` seconds (phases spread
at random), the newest stamped with the moment it is sent; one watcher per courier holds a
live stream on the *other* process. Position-to-screen latency is the time from that stamp
to the frame carrying it arriving at the watcher: the batch's trip through HTTP, the server,
Redis, the second server and the stream. Both ends run on this machine's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import websockets

from o2o.bench.dispatch_metrics import quantile
from o2o.bench.rawhttp import Connection, HttpError, event_stream


@dataclass(frozen=True)
class Watched:
    """One courier: where it posts its positions, and where its watcher listens (URLs)."""

    ingest_url: str
    ingest_headers: dict[str, str]
    watch_url: str
    watch_headers: dict[str, str]
    lat: float
    lng: float


@dataclass(frozen=True)
class Target:
    name: str
    transport: Literal["sse", "ws"]  # how the watchers listen
    couriers: list[Watched]
    # The body of one batch, and the newest position time (epoch s) a frame carries.
    body: Callable[[list[dict[str, Any]]], dict[str, Any]]
    stamp: Callable[[dict[str, Any]], float | None]
    # How couriers send: a POST per batch, or one WebSocket each with a message per batch
    # (``ingest_url`` is then the socket's http:// URL) answered in order.
    courier_transport: Literal["post", "ws"] = "post"


@dataclass
class Outcome:
    name: str
    seconds: float
    batches_sent: int = 0
    batches_refused: int = 0
    positions_sent: int = 0
    frames: int = 0
    ingest_ms: list[float] = field(default_factory=list)
    screen_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    client_cpu_s: float = 0.0
    # How late the load generator's own event loop woke up for a 5 ms timer, in the window:
    # every millisecond here is in the latencies too, and is not the servers'.
    loop_lag_ms: list[float] = field(default_factory=list)
    server_cpu_s: list[float] = field(default_factory=list)  # per server process, in window

    @property
    def positions_per_s(self) -> float:
        return self.positions_sent / self.seconds if self.seconds else 0.0

    def p(self, values: list[float], q: float) -> float:
        return quantile(values, q) if values else math.nan


def batch_of(w: Watched, n: int, interval: float, now: float, rng: random.Random) -> list[Any]:
    """``n`` positions over the last ``interval`` seconds, the newest at ``now``."""
    out = []
    for k in range(n):
        at = now - interval * (n - 1 - k) / n
        out.append(
            {
                "lat": round(w.lat + rng.uniform(-0.002, 0.002), 6),
                "lng": round(w.lng + rng.uniform(-0.002, 0.002), 6),
                "at": datetime.fromtimestamp(at, UTC).isoformat(),
            }
        )
    return out


async def _courier(
    target: Target,
    w: Watched,
    *,
    batch: int,
    interval: float,
    until: float,
    out: Outcome,
    rng: random.Random,
    measuring: Callable[[], bool],
) -> None:
    send = await (_websocket_sender if target.courier_transport == "ws" else _post_sender)(w)
    await asyncio.sleep(rng.uniform(0, interval))
    next_at = time.monotonic()
    try:
        while time.monotonic() < until:
            sent = time.time()
            body = json.dumps(target.body(batch_of(w, batch, interval, sent, rng))).encode()
            try:
                ok, error = await send.batch(body)
            except (HttpError, OSError, websockets.WebSocketException) as exc:
                ok, error = False, repr(exc)
            if error is not None and len(out.errors) < 5:
                out.errors.append(error)
            if measuring():
                out.ingest_ms.append((time.time() - sent) * 1000)
                out.batches_sent += 1
                if ok:
                    out.positions_sent += batch
                else:
                    out.batches_refused += 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    finally:
        await send.close()


class _Sender(Protocol):
    async def batch(self, body: bytes) -> tuple[bool, str | None]: ...

    async def close(self) -> None: ...


class _PostSender:
    def __init__(self, w: Watched) -> None:
        self.url = w.ingest_url
        self.connection = Connection(w.ingest_url)
        self.headers = {**w.ingest_headers, "Content-Type": "application/json"}

    async def batch(self, body: bytes) -> tuple[bool, str | None]:
        answer = await self.connection.request("POST", self.url, headers=self.headers, body=body)
        if answer.status < 300:
            return True, None
        return False, f"{answer.status} {answer.body[:200]!r}"

    async def close(self) -> None:
        await self.connection.close()


async def _post_sender(w: Watched) -> _Sender:
    return _PostSender(w)


class _WebSocketSender:
    """One socket per courier; a batch is a text message, its answer the next message."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws

    async def batch(self, body: bytes) -> tuple[bool, str | None]:
        await self.ws.send(body.decode())
        answer = json.loads(await self.ws.recv())
        if isinstance(answer, dict) and "accepted" in answer:
            return True, None
        return False, f"ws {str(answer)[:200]}"

    async def close(self) -> None:
        await self.ws.close()


async def _websocket_sender(w: Watched) -> _Sender:
    url = w.ingest_url.replace("http", "ws", 1)
    return _WebSocketSender(await websockets.connect(url, additional_headers=w.ingest_headers))


def _record(
    target: Target, frame: dict[str, Any], out: Outcome, counted: Callable[[float], bool]
) -> None:
    stamp = target.stamp(frame)
    if stamp is not None and counted(stamp):
        out.frames += 1
        out.screen_ms.append((time.time() - stamp) * 1000)


async def _watch_sse(
    target: Target,
    w: Watched,
    ready: asyncio.Event,
    out: Outcome,
    counted: Callable[[float], bool],
) -> None:
    async for status, data in event_stream(w.watch_url, headers=w.watch_headers):
        if data is None:
            if status != 200:
                out.errors.append(f"watch {status}")
            ready.set()
            if status != 200:
                return
            continue
        with contextlib.suppress(ValueError):
            _record(target, json.loads(data), out, counted)


async def _watch_ws(
    target: Target, w: Watched, ready: asyncio.Event, out: Outcome, counted: Callable[[float], bool]
) -> None:
    url = w.watch_url.replace("http", "ws", 1)
    async with websockets.connect(url, additional_headers=w.watch_headers) as ws:
        await ws.recv()  # the server says it is subscribed
        ready.set()
        async for text in ws:
            with contextlib.suppress(ValueError):
                _record(target, json.loads(text), out, counted)


async def run(
    target: Target,
    *,
    seconds: float,
    batch: int,
    interval: float,
    warmup: float = 3.0,
    seed: int = 7,
    pids: tuple[int, ...] = (),
) -> Outcome:
    """Watch every courier, then let them all post for ``warmup`` + ``seconds``; only what
    is sent and received in the last ``seconds`` is counted."""
    rng = random.Random(seed)
    out = Outcome(target.name, seconds)
    window = [math.inf, math.inf]  # [from, until] in monotonic seconds, for the couriers
    stamps = [math.inf, math.inf]  # the same in epoch seconds, for the positions' times

    def measuring() -> bool:
        return window[0] <= time.monotonic() < window[1]

    def counted(stamp: float) -> bool:
        return stamps[0] <= stamp < stamps[1]

    readies = [asyncio.Event() for _ in target.couriers]
    watchers = [
        asyncio.create_task(
            _watch_sse(target, w, ready, out, counted)
            if target.transport == "sse"
            else _watch_ws(target, w, ready, out, counted)
        )
        for w, ready in zip(target.couriers, readies, strict=True)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
    await asyncio.sleep(0.5)  # subscriptions confirmed at Redis

    async def cpu_window() -> tuple[list[float], float]:
        await asyncio.sleep(warmup)
        before, own = [proc_cpu_s(p) for p in pids], _cpu()
        await asyncio.sleep(seconds)
        return [proc_cpu_s(p) - b for p, b in zip(pids, before, strict=True)], _cpu() - own

    async def loop_lag(step: float = 0.005) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(step)
            if measuring():
                out.loop_lag_ms.append((time.monotonic() - before - step) * 1000)

    start, wall = time.monotonic(), time.time()
    window_cpu = asyncio.create_task(cpu_window())
    lag = asyncio.create_task(loop_lag())
    window[0], window[1] = start + warmup, start + warmup + seconds
    stamps[0], stamps[1] = wall + warmup, wall + warmup + seconds
    until = start + warmup + seconds
    couriers = [
        _courier(
            target,
            w,
            batch=batch,
            interval=interval,
            until=until,
            out=out,
            rng=random.Random(rng.random()),
            measuring=measuring,
        )
        for w in target.couriers
    ]
    await asyncio.gather(*couriers)
    out.server_cpu_s, out.client_cpu_s = await window_cpu
    await asyncio.sleep(1.0)  # the last frames arrive
    for task in [lag, *watchers]:
        task.cancel()
    for task in [lag, *watchers]:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    return out


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def epoch_of(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def newest(positions: list[dict[str, Any]]) -> float | None:
    return max((epoch_of(p["at"]) for p in positions), default=None)
