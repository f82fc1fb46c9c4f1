"""``o2o worker --once``: expires what is due and handles the outbox, in a process of its own."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from o2o.cli.main import app
from o2o.core.db import Database
from o2o.core.migrate import upgrade
from o2o.core.outbox_models import OutboxMessage
from o2o.inventory.models import StockLevel
from o2o.orders import placement
from o2o.orders.models import Fulfilment, Order, OrderStatus
from o2o.orders.policy import OrderPolicy
from o2o.orders.schemas import LineIn, OrderCreate
from tests.factories import make_user, stock
from tests.inventory.scene import make_shop


async def _seed(url: str) -> int:
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            shop = await make_shop(session, sizes=("M",))
            await stock(session, store=shop.store, variant_id=shop.variants[0].id, qty=3)
            shopper = await make_user(session)
            (order,) = await placement.place_orders(
                session,
                shopper_id=shopper.id,
                policy=OrderPolicy(reservation_ttl=timedelta(seconds=-1)),  # already due
                requests=[
                    OrderCreate(
                        store_id=shop.store.id,
                        fulfilment=Fulfilment.PICKUP,
                        lines=[LineIn(variant_id=shop.variants[0].id, qty=2)],
                    )
                ],
            )
            await session.commit()
            return order.id
    finally:
        await db.dispose()


async def _state(url: str, order_id: int) -> tuple[OrderStatus, int, int]:
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            order = await session.get(Order, order_id)
            reserved = await session.scalar(select(StockLevel.reserved))
            pending = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.processed_at.is_(None))
            )
            assert order is not None
            return order.status, int(reserved or 0), int(pending or 0)
    finally:
        await db.dispose()


def test_worker_once_expires_unpaid_orders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'worker.db'}"
    upgrade(url)
    order_id = asyncio.run(_seed(url))
    assert asyncio.run(_state(url, order_id)) == (OrderStatus.PLACED, 2, 1)

    monkeypatch.setenv("O2O_DATABASE_URL", url)
    monkeypatch.setenv("O2O_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "expire_orders" in result.output

    assert asyncio.run(_state(url, order_id)) == (OrderStatus.EXPIRED, 0, 0)
