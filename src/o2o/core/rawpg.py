"""Hot read paths on PostgreSQL without the ORM's per-statement work.

Every API request authenticates and every order reads its store and items. Through the ORM
each of those reads costs more CPU in Python (building the statement's cache key, the
compiled state, loading entities into the identity map) than in the database. Here a query
is plain SQL on asyncpg's connection *inside the session's transaction* (same snapshot, same
locks, same commit), and rows become transient model instances with the same Python values
the ORM would give: the rules downstream see no difference. Off PostgreSQL the callers keep
their ORM queries.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Enum, Table, TypeDecorator
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.db import Base

M = TypeVar("M", bound=Base)
_DRIVER = "o2o.rawpg.driver"  # session.info: (the transaction, its asyncpg connection)
_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy


def is_postgresql(session: AsyncSession) -> bool:
    bind = session.bind
    return bind is not None and bind.dialect.name == "postgresql"


async def driver(session: AsyncSession) -> Any:
    """asyncpg's connection inside the session's transaction (begun if it was not).

    SQLAlchemy's asyncpg adapter sends ``BEGIN`` lazily, with its first statement; a
    statement sent straight to asyncpg before that would run (and commit) on its own. So
    the adapter's transaction is begun here when it has not been yet."""
    transaction = session.get_transaction()
    known = session.info.get(_DRIVER)
    if transaction is not None and known is not None and known[0] is transaction:
        return known[1]  # this transaction's, already begun
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    adapter: Any = raw.dbapi_connection
    if getattr(adapter, "_transaction", False) is None:
        await adapter._start_transaction()  # the adapter's own lazy BEGIN
    elif not hasattr(adapter, "_transaction"):  # an adapter we do not know: begin through it
        await connection.exec_driver_sql("SELECT 1")
    session.info[_DRIVER] = (session.get_transaction(), raw.driver_connection)
    return raw.driver_connection


async def statement_driver(session: AsyncSession) -> Any:
    """asyncpg's connection for one statement that needs no transaction of its own.

    Inside the session's transaction if it has begun on the connection; else the statement
    runs on its own (PostgreSQL makes a lone statement its own transaction), and no ``BEGIN``
    is sent for it: one round trip instead of two. For reads that decide nothing later
    statements rely on being in the same transaction (who holds a token), and for writes
    that are a single statement (all or nothing by themselves). A later ORM statement in the
    session begins the transaction as usual."""
    known = session.info.get(_DRIVER)
    transaction = session.get_transaction()
    if transaction is not None and known is not None and known[0] is transaction:
        return known[1]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def table_of(model: type[Base]) -> Table:
    table = model.__table__
    if not isinstance(table, Table):  # every model here maps one table
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


def _converter(column_type: Any) -> Callable[[Any], Any] | None:
    """What the ORM does to a value of this column type after asyncpg has decoded it."""
    if isinstance(column_type, TypeDecorator):
        process = column_type.process_result_value
        return lambda value: process(value, _DIALECT)
    if isinstance(column_type, Enum) and column_type.enum_class is not None:
        enum_class = column_type.enum_class
        return lambda value: None if value is None else enum_class(value)
    return None


@functools.cache
def _plan(model: type[Base]) -> tuple[tuple[str, str, Callable[[Any], Any] | None], ...]:
    mapper = model.__mapper__
    return tuple(
        (attr.key, attr.columns[0].name, _converter(attr.columns[0].type))
        for attr in mapper.column_attrs
    )


@functools.cache
def select_list(model: type[Base], alias: str, prefix: str) -> str:
    """``alias.col AS prefix_col, …`` for every mapped column of ``model``."""
    return ", ".join(f"{alias}.{name} AS {prefix}{name}" for _, name, _ in _plan(model))


def build(model: type[M], row: Mapping[str, Any], prefix: str = "") -> M:
    """A transient ``model`` instance from a row selected with ``select_list``.

    Its values are placed in the instance's dictionary as the ORM's loader places them, not
    set through the constructor (whose change tracking costs more than the query)."""
    instance: M = model.__mapper__.class_manager.new_instance()
    values = instance.__dict__
    for key, name, convert in _plan(model):
        value = row[prefix + name]
        values[key] = convert(value) if convert is not None else value
    return instance
