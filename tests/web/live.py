"""A live server for browser tests: uvicorn in a thread, on a migrated and seeded SQLite file."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from o2o.bootstrap import create_app
from o2o.core.db import Database
from o2o.core.migrate import upgrade
from o2o.core.settings import Settings
from o2o.demo.seed import SeedResult, seed_demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass(frozen=True)
class LiveServer:
    url: str
    seed: SeedResult
    database_url: str = ""  # the server's database, for tests that set a scene up directly
    database: Path | None = None  # the server's SQLite file, for set-ups no API offers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(url: str) -> SeedResult:
    """Migrate and seed in a thread of its own (Alembic and the seed run their own loops)."""
    result: list[SeedResult] = []

    async def seed() -> None:
        db = Database.from_url(url)
        async with db.session() as session:
            result.append(await seed_demo(session))
            await session.commit()
        await db.dispose()

    def work() -> None:
        upgrade(url)
        asyncio.run(seed())

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert result, "seeding the demo failed"
    return result[0]


def require_chromium() -> None:
    if CHROMIUM.exists() or shutil.which("chromium"):
        return
    message = f"{CHROMIUM} is missing (apt-get install -y chromium)."
    if os.environ.get("CI"):
        pytest.fail(message + " CI requires it.")
    pytest.skip(message)


def serve(tmp: Path) -> Iterator[LiveServer]:
    url = f"sqlite+aiosqlite:///{tmp / 'browser.db'}"
    seeded = _prepare(url)
    settings = Settings(
        database_url=url,
        data_dir=tmp / "data",
        secret_key="browser-test-secret-0123456789",
        demo_mode=True,
        # As in `o2o demo`: the outbox relay runs in the server, so order news reaches pages.
        worker_in_process=True,
        # No internet here: tiles fail to load and the pages must still work.
        map_tiles_url="http://127.0.0.1:9/{z}/{x}/{y}.png",
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", seeded, url, tmp / "browser.db")
    server.should_exit = True
    thread.join(timeout=10)
