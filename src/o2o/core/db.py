"""Engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Enum, Integer, MetaData, event, or_
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT keys on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on databases that keep zones and on those that don't."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Foreign keys on, WAL, and BEGIN IMMEDIATE so writers queue instead of failing."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (needed for savepoints).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """An async engine for SQLite (aiosqlite) or PostgreSQL (asyncpg)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        # Up to twice ``pool_size`` connections, all kept once opened: with the second half
        # as "overflow", a burst past ``pool_size`` opened connections (a PostgreSQL backend
        # forked, types introspected, statements prepared again) only to close them when it
        # ended, over and over under a steady load of short transactions.
        pool_size=2 * pool_size,
        max_overflow=0,
        # No ping per checkout: it costs a round trip each time a request takes a connection
        # (three per order). A connection that died is invalidated when it fails, the request
        # answers 503 "try again" (o2o.api.errors), and the pool opens a fresh one.
        pool_pre_ping=False,
        pool_recycle=1800,
        # The app runs short queries only: a generic plan's estimate (a nearby search over a
        # popular variant, say) can pass jit_above_cost, and compiling then takes ~20 ms for
        # a query of 0.2 ms.
        connect_args={"server_settings": {"jit": "off"}},
    )


async def session_connection(session: AsyncSession) -> AsyncConnection:
    """``await session.connection()``, remembered for the session's current transaction.

    Asking the session costs a greenlet round and the ORM's bookkeeping (~12 µs), a few
    percent of a nearby search; within one transaction the answer cannot change, so hot read
    paths keep it in ``session.info`` beside the transaction it belongs to.
    """
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_HELD_CONNECTION)
    if (
        held is not None
        and transaction is not None
        and held[0] is transaction
        and transaction.is_active
        and not held[1].closed
        and not held[1].invalidated
    ):
        connection: AsyncConnection = held[1]
        return connection
    connection = await session.connection()
    session.info[_HELD_CONNECTION] = (session.sync_session.get_transaction(), connection)
    return connection


_HELD_CONNECTION = "o2o.core.db.connection"


class Database:
    """The application's handle on its database: a session factory and its engine."""

    def __init__(self, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]):
        self.engine = engine
        self.sessionmaker = sessionmaker

    @classmethod
    def from_url(cls, url: str, *, echo: bool = False) -> Database:
        engine = create_engine(url, echo=echo)
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False))

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def str_enum(enum_cls: type[enum.StrEnum]) -> Enum:
    """A portable VARCHAR column that stores the enum's values (not its Python names)."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=24,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def between_any(column: Any, ranges: list[tuple[int, int]]) -> Any:
    """``column BETWEEN lo AND hi OR ...``: one index seek per range on any B-tree."""
    return or_(*(column.between(lo, hi) for lo, hi in ranges))
