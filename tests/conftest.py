"""Test databases: every database test runs on SQLite and on PostgreSQL.

Each backend's schema is built once per run with the real migrations. Each test runs inside an
outer transaction that is rolled back afterwards; the code under test commits to savepoints
(``join_transaction_mode="create_savepoint"``). Concurrency tests use ``pg_database_url`` and
real commits on a database of their own instead.

PostgreSQL is required when ``CI`` is set: its absence is then a failure, not a skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from o2o.bootstrap import create_app
from o2o.core.db import Database, create_engine
from o2o.core.migrate import upgrade
from o2o.core.settings import Settings

PG_ADMIN_DSN = os.environ.get("O2O_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_SERVICES = bool(os.environ.get("CI")) or bool(os.environ.get("O2O_REQUIRE_SERVICES"))
BACKENDS = ["sqlite", "postgresql"]


def _asyncpg_url(dsn: str, dbname: str) -> str:
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{dbname}"


async def _pg_available() -> str | None:
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def create_pg_database(prefix: str = "o2o_test") -> str:
    """Create a fresh PostgreSQL database, migrate it, and return its SQLAlchemy URL."""
    problem = await _pg_available()
    if problem:
        message = f"PostgreSQL is not reachable at {PG_ADMIN_DSN} ({problem})."
        if REQUIRE_SERVICES:
            pytest.fail(message + " CI requires it.")
        pytest.skip(message)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = _asyncpg_url(PG_ADMIN_DSN, name)
    await asyncio.to_thread(upgrade, url)
    return url


@contextlib.asynccontextmanager
async def fresh_pg_database(prefix: str, *, pool_size: int) -> AsyncIterator[Database]:
    """A migrated PostgreSQL database of its own with real commits, dropped afterwards."""
    url = await create_pg_database(prefix)
    engine = create_engine(url, pool_size=pool_size)
    database = Database(engine, async_sessionmaker(engine, expire_on_commit=False))
    try:
        yield database
    finally:
        await database.dispose()
        await drop_pg_database(url)


async def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("o2o")


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_root: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        path = tmp_root / f"test-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite+aiosqlite:///{path}"
        await asyncio.to_thread(upgrade, url)
        yield url
        return
    url = await create_pg_database()
    yield url
    await drop_pg_database(url)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
async def database(engine: AsyncEngine) -> AsyncIterator[Database]:
    """A Database whose sessions all live inside one outer transaction, rolled back after."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        maker = async_sessionmaker(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        yield Database(engine, maker)
        await outer.rollback()


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    async with database.session() as s:
        yield s


@pytest.fixture
def settings(tmp_root: Path) -> Settings:
    return Settings(
        database_url="sqlite+aiosqlite://",  # unused: tests pass the database in
        data_dir=tmp_root / "data",
        secret_key="test-secret-key-0123456789",
    )


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database=database)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main
    thread while its browser is open, and asyncio tests cannot start theirs after it."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
