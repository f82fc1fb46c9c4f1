"""Returns and exchanges through the service: the money, the lines, the stock and the record."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog.models import Variant
from o2o.core.clock import utcnow
from o2o.inventory import queries as inventory_queries
from o2o.merchants.models import Store
from o2o.orders import placement, returns
from o2o.orders import service as orders_service
from o2o.orders.exceptions import (
    ExchangePriceDiffers,
    ReturnNotAllowed,
    ReturnWindowClosed,
)
from o2o.orders.models import Fulfilment, Order, OrderStatus
from o2o.orders.policy import OrderPolicy
from o2o.orders.pricing import Draft
from o2o.orders.schemas import AddressIn, LineIn, OrderCreate
from o2o.payments import service as payments_service
from o2o.payments.service import Providers
from tests.inventory.scene import level_of
from tests.orders.returns_scene import collected_order, second_store
from tests.orders.scene import OrderScene, make_scene, pay

PRICE = 19900


class FixedOff:
    """A discount of a fixed amount (what a coupon will do)."""

    def __init__(self, off: int) -> None:
        self.off = off

    async def discount_for(self, draft: Draft) -> int:
        return self.off


async def _store(session: AsyncSession, store_id: int) -> Store:
    store = await session.get(Store, store_id)
    assert store is not None
    return store


async def _delivered_with_discount(
    client: httpx.AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    scene: OrderScene,
    lines: list[tuple[int, int]],
    off: int,
) -> Order:
    """A delivery order (with its fee) placed with ``off`` taken off, paid and delivered."""
    (order,) = await placement.place_orders(
        session,
        shopper_id=scene.shopper.id,
        policy=OrderPolicy(),
        discounts=FixedOff(off),
        requests=[
            OrderCreate(
                store_id=scene.store.id,
                fulfilment=Fulfilment.DELIVERY,
                lines=[LineIn(variant_id=v, qty=q) for v, q in lines],
                address=AddressIn(text="1 Nearby Road", lat=scene.store.lat, lng=scene.store.lng),
            )
        ],
    )
    await session.commit()
    assert (await pay(client, app, scene, order.id))["status"] == "paid"
    providers: Providers = app.state.payment_providers
    order = await orders_service.get_order(session, order_id=order.id)
    for to in (OrderStatus.ACCEPTED, OrderStatus.READY, OrderStatus.OUT_FOR_DELIVERY):
        await orders_service.transition(
            session, order=order, to=to, actor_user_id=scene.clerk.id, providers=providers
        )
    await orders_service.transition(
        session,
        order=order,
        to=OrderStatus.DELIVERED,
        actor_user_id=scene.clerk.id,
        providers=providers,
    )
    await session.commit()
    return order


async def test_partial_returns_refund_the_discounted_price_and_the_fee_with_the_last_unit(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    # Given a delivered order of 2 M and 1 L (3 × 199.00), 50.00 off, 6.00 delivery
    scene = await make_scene(session)
    m, lv = scene.variants[1], scene.variants[2]
    order = await _delivered_with_discount(
        client, app, session, scene, [(m.id, 2), (lv.id, 1)], 5000
    )
    assert (order.subtotal, order.discount, order.fee, order.total) == (59700, 5000, 600, 55300)
    lines = {
        line.variant_id: line for line in await orders_service.lines_of(session, order_id=order.id)
    }
    providers: Providers = app.state.payment_providers

    async def give_back(line_id: int, qty: int) -> int:
        done = await returns.return_items(
            session,
            receiving_store=scene.store,
            order_id=order.id,
            lines=[(line_id, qty)],
            reason="does not fit",
            actor_user_id=scene.clerk.id,
            providers=providers,
        )
        await session.commit()
        return done.record.refund_amount

    # When the units come back one by one
    first = await give_back(lines[m.id].id, 1)
    second = await give_back(lines[lv.id].id, 1)
    last = await give_back(lines[m.id].id, 1)

    # Then each unit refunds its price less its share of the discount (rounded down), and
    # the last one the rest, with the fee: exactly the total altogether
    assert first == 19900 * 54700 // 59700 == 18233
    assert second == 39800 * 54700 // 59700 - first == 18233
    assert last == 55300 - first - second == 18834
    order = await orders_service.get_order(session, order_id=order.id)
    payment = await payments_service.get_payment(session, payment_id=order.payment_id or 0)
    await session.refresh(payment)
    assert order.refunded == payment.refunded == order.total
    refunds = await payments_service.refunds_of(session, payment_id=payment.id)
    assert [r.amount for r in refunds] == [first, second, last]
    assert await level_of(session, scene.store, m.id) == (10, 0)
    assert await inventory_queries.ledger_discrepancies(session) == []


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_any_sequence_of_returns_never_refunds_more_than_paid(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, data: st.DataObject
) -> None:
    scene = await make_scene(session, sizes=("S", "M"))
    s, m = scene.variants
    prices = data.draw(st.tuples(st.integers(1, 30000), st.integers(0, 30000)), label="prices")
    for variant, price in zip((s, m), prices, strict=True):
        await session.execute(update(Variant).where(Variant.id == variant.id).values(price=price))
    qty = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 3)), label="qty")
    off = data.draw(st.integers(0, prices[0] * qty[0] + prices[1] * qty[1]), label="off")
    order = await _delivered_with_discount(
        client, app, session, scene, [(s.id, qty[0]), (m.id, qty[1])], off
    )
    ids = [line.id for line in await orders_service.lines_of(session, order_id=order.id)]
    left = dict(zip(ids, qty, strict=True))
    refunded = 0
    while any(left.values()) and data.draw(st.integers(0, 9), label="go on") > 0:
        line_id = data.draw(st.sampled_from([i for i, n in left.items() if n]), label="line")
        n = data.draw(st.integers(1, left[line_id]), label="n")
        done = await returns.return_items(
            session,
            receiving_store=scene.store,
            order_id=order.id,
            lines=[(line_id, n)],
            reason="changed my mind",
            actor_user_id=scene.clerk.id,
            providers=app.state.payment_providers,
        )
        await session.commit()
        left[line_id] -= n
        refunded += done.record.refund_amount
        assert done.order.refunded == refunded <= order.total
    if not any(left.values()):
        assert refunded == order.total


async def test_exchange_adds_the_replacement_at_the_price_paid_and_moves_no_money(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    s, m = scene.variants[0], scene.variants[1]
    order = await collected_order(client, app, scene, [(m.id, 2)])
    (line,) = order["lines"]

    done = await returns.exchange_items(
        session,
        receiving_store=scene.store,
        order_id=order["id"],
        lines=[(line["id"], 1)],
        exchange_to=[(line["id"], s.id)],
        reason="too big",
        actor_user_id=scene.clerk.id,
    )
    await session.commit()

    assert done.record.refund_amount == 0
    assert done.record.refund_id is None
    lines = await orders_service.lines_of(session, order_id=order["id"])
    assert [(x.variant_id, x.qty, x.returned_qty, x.unit_price) for x in lines] == [
        (m.id, 2, 1, PRICE),
        (s.id, 1, 0, PRICE),
    ]
    assert done.lines[0].replacement_line_id == lines[1].id
    assert done.order.refunded == 0
    assert await level_of(session, scene.store, m.id) == (9, 0)  # 10 - 2 sold + 1 back
    assert await level_of(session, scene.store, s.id) == (9, 0)  # 1 handed out
    # The replacement can itself be returned, for the price paid
    back = await returns.return_items(
        session,
        receiving_store=scene.store,
        order_id=order["id"],
        lines=[(lines[1].id, 1), (lines[0].id, 1)],
        reason="no longer wanted",
        actor_user_id=scene.clerk.id,
        providers=app.state.payment_providers,
    )
    await session.commit()
    assert back.record.refund_amount == back.order.total == 2 * PRICE
    assert await inventory_queries.ledger_discrepancies(session) == []


async def test_exchange_for_a_dearer_variant_is_refused(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    s, m = scene.variants[0], scene.variants[1]
    order = await collected_order(client, app, scene, [(m.id, 1)])
    await session.execute(update(Variant).where(Variant.id == s.id).values(price=PRICE + 100))
    with pytest.raises(ExchangePriceDiffers) as refused:
        await returns.exchange_items(
            session,
            receiving_store=scene.store,
            order_id=order["id"],
            lines=[(order["lines"][0]["id"], 1)],
            exchange_to=[(order["lines"][0]["id"], s.id)],
            reason="too big",
            actor_user_id=scene.clerk.id,
        )
    assert refused.value.extra == {
        "line_id": order["lines"][0]["id"],
        "paid": PRICE,
        "price": PRICE + 100,
    }


async def test_the_window_closes_after_the_policy_period(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    order = await collected_order(client, app, scene, [(scene.variants[1].id, 1)])
    policy = OrderPolicy(return_window=timedelta(days=30))

    async def return_one(days_later: timedelta) -> returns.ReturnDone:
        return await returns.return_items(
            session,
            receiving_store=scene.store,
            order_id=order["id"],
            lines=[(order["lines"][0]["id"], 1)],
            reason="late",
            actor_user_id=scene.clerk.id,
            providers=app.state.payment_providers,
            policy=policy,
            now=utcnow() + days_later,
        )

    with pytest.raises(ReturnWindowClosed):
        await return_one(timedelta(days=30, seconds=1))
    done = await return_one(timedelta(days=29))
    assert done.record.refund_amount == PRICE


async def test_an_order_not_yet_handed_over_cannot_come_back(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    placed = await client.post(
        "/api/v1/orders",
        json={
            "store_id": scene.store.id,
            "fulfilment": "pickup",
            "lines": [{"variant_id": scene.variants[1].id, "qty": 1}],
        },
        headers={**scene.shopper_headers, "Idempotency-Key": "not-handed-over"},
    )
    paid = await pay(client, app, scene, placed.json()["id"])
    with pytest.raises(ReturnNotAllowed):
        await returns.return_items(
            session,
            receiving_store=scene.store,
            order_id=paid["id"],
            lines=[(paid["lines"][0]["id"], 1)],
            reason="changed my mind",
            actor_user_id=scene.clerk.id,
            providers=app.state.payment_providers,
        )


async def test_units_not_fit_to_sell_are_refunded_but_not_restocked(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    desk = await second_store(session, scene)
    m = scene.variants[1]
    order = await collected_order(client, app, scene, [(m.id, 1)])
    done = await returns.return_items(
        session,
        receiving_store=await _store(session, desk.store.id),
        order_id=order["id"],
        lines=[(order["lines"][0]["id"], 1)],
        reason="torn seam",
        actor_user_id=scene.clerk.id,
        providers=app.state.payment_providers,
        restock=False,
    )
    await session.commit()
    assert done.record.refund_amount == PRICE
    assert not done.record.restocked
    assert await level_of(session, desk.store, m.id) == (5, 0)
    assert await level_of(session, scene.store, m.id) == (9, 0)
    found = await session.scalar(select(Order.refunded).where(Order.id == order["id"]))
    assert found == PRICE
