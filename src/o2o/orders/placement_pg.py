"""Placing a one-line pickup or delivery order on PostgreSQL in one statement.

The general path (``placement.place_checkout`` under ``core.idempotency.run_once``) costs two
transactions and a dozen round trips: claim the key and commit, read, write each row, take
the stock, store the response, commit. Under a flash sale or a busy lunch hour that is what
limits orders per second, and a popular stock level's row lock waits on those round trips.

Here the rules are the same (the same reads, checks and prices: ``placement.parts_for`` and
``placement.draft_part``); only the writing differs. The ids are drawn first, the answer is
rendered, and then *one* statement claims the idempotency key with that answer, takes the
stock with the conditional update and writes the order, its line, its timeline entry, its
hold and its outbox message, every insert conditional on the stock having been taken. Being
one statement it is atomic by itself, so it needs no ``BEGIN`` and ``COMMIT`` round trips
(the reads before it are single ``SELECT``s, which READ COMMITTED would give their own
snapshots anyway). If the key was already claimed or the stock is short, nothing is written
and the caller runs the general path, which replays, refuses or reclaims expired holds
exactly as before: this path never decides a refusal, it only makes the common success
cheaper.
"""

from __future__ import annotations

import enum
import functools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import JSON, Column, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy.types import TypeEngine

from o2o.core import rawpg
from o2o.core.clock import utcnow
from o2o.core.db import Base
from o2o.core.outbox_models import OutboxMessage
from o2o.inventory.models import Reservation, ReservationStatus
from o2o.orders.events import order_payload
from o2o.orders.models import Fulfilment, Order, OrderEvent, OrderLine
from o2o.orders.placement import (
    ORDER_PLACED,
    Placed,
    draft_part,
    first_event,
    lines_of,
    merge_lines,
    parts_for,
)
from o2o.orders.policy import OrderPolicy
from o2o.orders.pricing import Discounts, NoDiscounts
from o2o.orders.schemas import OrderCreate

FULFILMENTS = (Fulfilment.PICKUP, Fulfilment.DELIVERY)
IDS = (
    "SELECT nextval(pg_get_serial_sequence('orders', 'id')), "
    "nextval(pg_get_serial_sequence('order_lines', 'id')), "
    "nextval(pg_get_serial_sequence('order_events', 'id'))"
)


@dataclass(frozen=True)
class Once:
    """The idempotency record this placement claims (see ``core.idempotency``)."""

    scope: str
    key: str
    request_hash: str
    ttl: timedelta


def applies(session: AsyncSession, data: OrderCreate) -> bool:
    """Whether this request can take the one-statement path (else: the general one)."""
    bind = session.bind
    return (
        bind is not None
        and bind.dialect.name == "postgresql"
        and data.fulfilment in FULFILMENTS
        and data.store_id is not None
        and len({line.variant_id for line in data.lines}) == 1
    )


@dataclass(frozen=True)
class Statement:
    """The one statement of a placement, ready to send, and the answer it stores."""

    args: list[Any]
    answer: Any


async def place_once(
    session: AsyncSession,
    *,
    shopper_id: int,
    data: OrderCreate,
    policy: OrderPolicy,
    once: Once,
    render: Callable[[list[Placed]], Any],
    discounts: Discounts | None = None,
    now: datetime | None = None,
) -> Any | None:
    """Place the order and store ``render``'s answer under the key, committed together;
    returns the answer. None (having changed nothing) when the general path must decide:
    the key is known, or the stock is short. Invalid requests raise the same domain errors
    as the general path, before anything is written."""
    statement = await prepare(
        session, shopper_id=shopper_id, data=data, policy=policy, once=once, render=render,
        discounts=discounts, now=now,
    )  # fmt: skip
    if statement is None:
        return None
    # No BEGIN and COMMIT: the placement is one statement, atomic by itself (and inside the
    # session's transaction if something began one).
    driver: Any = await rawpg.driver(session, begin=False)
    try:
        claimed, taken, _ = await driver.fetchrow(sql(), *statement.args)
    except asyncpg.exceptions.DivisionByZeroError:  # key claimed, stock short: undone
        claimed = taken = 0
    if not (claimed and taken):
        await session.rollback()
        return None
    await session.commit()
    return statement.answer


async def prepare(
    session: AsyncSession,
    *,
    shopper_id: int,
    data: OrderCreate,
    policy: OrderPolicy,
    once: Once,
    render: Callable[[list[Placed]], Any],
    discounts: Discounts | None = None,
    now: datetime | None = None,
) -> Statement | None:
    """The reads and rules of the placement, its ids drawn: what ``sql()`` is sent with
    (None if the request has more than one line). Writes nothing."""
    now = now or utcnow()
    (variant_id, qty), *more = merge_lines(data).items()
    if more:
        return None
    (part,) = await parts_for(session, data)
    draft = await draft_part(
        session,
        data=data,
        part=part,
        shopper_id=shopper_id,
        policy=policy,
        discounts=discounts or NoDiscounts(),
        checkout_ref=secrets.token_hex(8),
        now=now,
    )
    driver: Any = await rawpg.driver(session, begin=False)
    order_id, line_id, event_id = await driver.fetchrow(IDS)
    order = draft.order
    order.id = order_id
    (line,) = lines_of(draft, order_id)
    line.id = line_id
    event = first_event(draft, order_id)
    event.id = event_id
    answer = render([Placed(order, part.store, [line], [event], None)])
    hold = Reservation(
        store_id=part.store.id,
        variant_id=variant_id,
        qty=qty,
        reference=order.reference,
        status=ReservationStatus.HELD,
        expires_at=draft.hold,
        created_at=now,
    )
    message = OutboxMessage(
        topic=ORDER_PLACED,
        payload=order_payload(order),
        created_at=now,
        available_at=now,
        attempts=0,
        last_error="",
    )
    args = _arguments(
        once=once, answer=answer, now=now, rows=[order, line, event, hold, message], hold=hold
    )
    return Statement(args, answer)


def _columns(table: Table, *, skip_id: bool = False) -> list[Column[Any]]:
    return [c for c in table.columns if not (skip_id and c.primary_key)]


def _insert_if_taken(table: Table, columns: list[Column[Any]], first: int) -> str:
    """``INSERT INTO t (…) SELECT $n::type, … WHERE the stock was taken``, numbered from
    ``first``; each parameter cast to its column's type (a parameter in a select list has
    no type of its own)."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy
    names = ", ".join(c.name for c in columns)
    values = ", ".join(
        f"${first + i}::{_type_of(c).compile(dialect=dialect)}" for i, c in enumerate(columns)
    )
    return f"INSERT INTO {table.name} ({names}) SELECT {values} WHERE EXISTS (SELECT 1 FROM taken)"  # noqa: S608  # names and types from our own tables


def _type_of(column: Column[Any]) -> TypeEngine[Any]:
    """A foreign key column takes its type from the column it points to."""
    if isinstance(column.type, NullType) and column.foreign_keys:
        return next(iter(column.foreign_keys)).column.type
    return column.type


_WRITES = [
    (rawpg.table_of(Order), _columns(rawpg.table_of(Order))),
    (rawpg.table_of(OrderLine), _columns(rawpg.table_of(OrderLine))),
    (rawpg.table_of(OrderEvent), _columns(rawpg.table_of(OrderEvent))),
    (rawpg.table_of(Reservation), _columns(rawpg.table_of(Reservation), skip_id=True)),
    (rawpg.table_of(OutboxMessage), _columns(rawpg.table_of(OutboxMessage), skip_id=True)),
]


_HEAD = ("key.scope", "key.key", "key.request_hash", "key.response_body", "key.now",
         "key.expires_at", "stock.store_id", "stock.variant_id", "stock.qty")  # fmt: skip


def parameter_names() -> list[str]:
    """What ``sql()``'s parameters are, in order: ``key.…`` and ``stock.…`` for the claim and
    the stock taken, then ``table.column`` for each row written."""
    return [*_HEAD, *(f"{t.name}.{c.name}" for t, columns in _WRITES for c in columns)]


@functools.cache
def sql() -> str:
    """The statement, built once from the tables' definitions: $1–$9 claim the key and take
    the stock, then each table's row in ``_WRITES`` order."""
    parts = [
        "claim AS (INSERT INTO idempotency_keys (scope, key, request_hash, response_status,"
        " response_body, locked_at, created_at, expires_at)"
        " VALUES ($1, $2, $3, 201, $4::json, $5, $5, $6)"
        " ON CONFLICT (scope, key) DO NOTHING RETURNING id)",
        "taken AS (UPDATE stock_levels SET reserved = reserved + $9, updated_at = $5"
        " WHERE store_id = $7 AND variant_id = $8 AND on_hand - reserved >= $9"
        " AND EXISTS (SELECT 1 FROM claim) RETURNING id)",
    ]
    first = 10
    for i, (table, columns) in enumerate(_WRITES):
        parts.append(f"w{i} AS ({_insert_if_taken(table, columns, first)})")
        first += len(columns)
    head = "WITH " + ",\n".join(parts)
    # A key claimed without the stock must not stay claimed, and the statement may run on
    # its own (no transaction around it): then it fails, dividing by zero on purpose, which
    # undoes the whole statement, claim included.
    tail = (
        "\nSELECT c.n, t.n, CASE WHEN c.n > t.n THEN 1 / (t.n - t.n) END"
        " FROM (SELECT count(*) AS n FROM claim) AS c, (SELECT count(*) AS n FROM taken) AS t"
    )
    return head + tail


def _value(column: Column[Any], value: Any) -> Any:
    """A Python value as asyncpg takes it for this column."""
    if value is None:
        return None
    if isinstance(column.type, JSON):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _arguments(
    *,
    once: Once,
    answer: Any,
    now: datetime,
    rows: list[Base],
    hold: Reservation,
) -> list[Any]:
    args: list[Any] = [
        once.scope,
        once.key,
        once.request_hash,
        json.dumps(answer, ensure_ascii=False),
        now,
        now + once.ttl,
        hold.store_id,
        hold.variant_id,
        hold.qty,
    ]
    for (_, columns), row in zip(_WRITES, rows, strict=True):
        args.extend(_value(c, getattr(row, c.key)) for c in columns)
    return args
