"""The real API under uvicorn, in a process of its own, on a free port.

A separate process (not an in-process ASGI client) so that the figures include the socket,
the HTTP parser and the event loop the server really runs, and so that the load generator
and the server compete for the cores as separate processes do in production. The outbox
relay is not run in the server (``O2O_WORKER_IN_PROCESS=false``, production's setting: the
relay is ``o2o worker``): the benchmark measures placing orders, not handling their events.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int  # for a profiler (py-spy) to attach to


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children (uvicorn's workers), from
    /proc (Linux); 0.0 where there is none."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        total = 0.0
        for p in [pid, *map(int, children)]:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    except (OSError, ValueError):
        return 0.0
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_ready(base_url: str, proc: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        for _ in range(300):
            if proc.returncode is not None:
                raise RuntimeError(f"the API server exited with code {proc.returncode}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the API server did not become ready in 30 s")


def server_command(port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--factory", "o2o.bootstrap:create_app",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--log-level", "warning", "--no-access-log",
            "--backlog", "4096"]  # fmt: skip  # 1,000 buyers connect at once


@asynccontextmanager
async def api_server(
    database_url: str, *, workers: int = 1, extra_env: dict[str, str] | None = None
) -> AsyncIterator[Server]:
    """Yield a running server; stop it afterwards."""
    port = free_port()
    env = {"O2O_DATABASE_URL": database_url, "O2O_WORKER_IN_PROCESS": "false",
           "O2O_SQL_ECHO": "false", **(extra_env or {})}  # fmt: skip
    async with serve(server_command(port, workers), port, env) as server:
        yield server


@asynccontextmanager
async def serve(command: list[str], port: int, env: dict[str, str]) -> AsyncIterator[Server]:
    """Run ``command`` (a server on ``port``) with ``env`` added; stop it afterwards."""
    proc = await asyncio.create_subprocess_exec(*command, env={**os.environ, **env})
    base_url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(base_url, proc)
        yield Server(base_url, proc.pid)
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
