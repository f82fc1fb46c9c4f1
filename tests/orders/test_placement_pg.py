"""The one-statement placement (PostgreSQL): it writes exactly what the general path writes,
and hands every case it does not decide (a known key, short stock) back to it untouched."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.idempotency_models import IdempotencyRecord
from o2o.core.outbox_models import OutboxMessage
from o2o.inventory.models import Reservation, ReservationStatus
from o2o.orders import placement, placement_pg
from o2o.orders import queries as orders_queries
from o2o.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from o2o.orders.placement import Placed
from o2o.orders.policy import OrderPolicy
from o2o.orders.schemas import OrderCreate
from tests.inventory.scene import level_of
from tests.orders.scene import OrderScene, make_scene


def _request(scene: OrderScene, qty: int = 2) -> OrderCreate:
    return OrderCreate.model_validate(
        {
            "store_id": scene.store.id,
            "fulfilment": "pickup",
            "lines": [{"variant_id": scene.variants[1].id, "qty": qty}],
        }
    )


def _render(placed: list[Placed]) -> Any:
    return orders_queries.placed_views(placed)[0].model_dump(mode="json")


async def _place(session: AsyncSession, shopper_id: int, data: OrderCreate, key: str) -> Any:
    return await placement_pg.place_once(
        session,
        shopper_id=shopper_id,
        data=data,
        policy=OrderPolicy(),
        once=placement_pg.Once("test|POST /orders", key, "hash-" + key, timedelta(hours=24)),
        render=_render,
    )


async def _count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_applies_to_one_line_pickup_or_delivery_on_postgresql_only(
    session: AsyncSession, backend: str
) -> None:
    scene = await make_scene(session)
    data = _request(scene)
    assert placement_pg.applies(session, data) is (backend == "postgresql")
    two_lines = data.model_copy(
        update={"lines": [*data.lines, data.lines[0].model_copy(update={"variant_id": 1})]}
    )
    assert not placement_pg.applies(session, two_lines)
    reserve = data.model_copy(update={"fulfilment": "reserve"})
    assert not placement_pg.applies(session, reserve)


async def test_one_statement_writes_the_order_its_hold_and_its_stored_answer(
    session: AsyncSession, backend: str
) -> None:
    scene = await make_scene(session, qty=5)
    data, shopper_id = _request(scene, qty=2), scene.shopper.id
    if not placement_pg.applies(session, data):
        assert backend == "sqlite"
        return
    key = uuid.uuid4().hex

    answer = await _place(session, shopper_id, data, key)

    assert answer is not None
    assert answer["status"] == "placed"
    order = await session.get(Order, answer["id"])
    assert order is not None
    assert order.status == OrderStatus.PLACED
    assert order.total == answer["total"] == 2 * answer["lines"][0]["unit_price"]
    assert order.address is None  # SQL NULL, as the ORM writes an unset column
    lines = list(await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)))
    assert [(line.id, line.qty) for line in lines] == [(answer["lines"][0]["id"], 2)]
    assert await _count(session, OrderEvent, OrderEvent.order_id == order.id) == 1
    holds = list(
        await session.scalars(select(Reservation).where(Reservation.reference == order.reference))
    )
    assert [(h.qty, h.status) for h in holds] == [(2, ReservationStatus.HELD)]
    assert await level_of(session, scene.store, scene.variants[1].id) == (5, 2)
    record = await session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
    assert record is not None
    assert record.response_status == 201
    assert record.response_body == answer
    messages = list(await session.scalars(select(OutboxMessage.payload)))
    assert any(m.get("order_id") == order.id for m in messages)


async def test_a_known_key_or_short_stock_is_left_to_the_general_path(
    session: AsyncSession, backend: str
) -> None:
    scene = await make_scene(session, qty=3)
    data, shopper_id = _request(scene, qty=2), scene.shopper.id
    one = _request(scene, qty=1)
    if not placement_pg.applies(session, data):
        assert backend == "sqlite"
        return
    key = uuid.uuid4().hex
    assert await _place(session, shopper_id, data, key) is not None
    orders_before = await _count(session, Order)

    # the same key again: nothing written, the general path replays
    assert await _place(session, shopper_id, data, key) is None
    # 2 more when only 1 is left: nothing written, the general path refuses (or reclaims)
    assert await _place(session, shopper_id, data, uuid.uuid4().hex) is None

    assert await _count(session, Order) == orders_before
    await session.refresh(scene.store)  # a rollback expires what the session holds
    assert await level_of(session, scene.store, data.lines[0].variant_id) == (3, 2)
    assert await _count(session, IdempotencyRecord) == 1
    # and the general path still places what fits
    placed = await placement.place_orders(
        session, shopper_id=shopper_id, requests=[one],
        policy=OrderPolicy(),
    )  # fmt: skip
    assert placed[0].status == OrderStatus.PLACED


def test_every_parameter_of_the_statement_is_named() -> None:
    import re

    numbers = {int(n) for n in re.findall(r"\$(\d+)", placement_pg.sql())}
    names = placement_pg.parameter_names()
    assert numbers == set(range(1, len(names) + 1))
    assert len(set(names)) == len(names)
    assert names[:2] == ["key.scope", "key.key"]
    assert {"orders.id", "order_lines.order_id", "stock_reservations.variant_id"} <= set(names)
