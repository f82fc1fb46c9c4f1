"""Orders' rules through HTTP: every bad input is its own 4xx and creates nothing; reserve,
delivery, shipping, cancel, reject, and the timers that end orders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from o2o.catalog import service as catalog_service
from o2o.core.clock import utcnow
from o2o.core.outbox_models import OutboxMessage
from o2o.inventory import queries as inventory_queries
from o2o.merchants import service as merchants_service
from o2o.merchants.schemas import Fulfilment, StoreUpdate
from o2o.orders import expiry as orders_expiry
from o2o.orders import service as orders_service
from o2o.orders.models import Order
from o2o.payments.models import Payment
from o2o.worker.relay import Relay
from tests.factories import make_product, make_staff, make_store, stock
from tests.inventory.scene import level_of
from tests.orders.scene import OrderScene, key, make_scene, pay, place


async def _count_orders(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Order)) or 0)


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"lines": []}, 422, "empty_order"),
        ({"lines": [{"variant_id": 987654321, "qty": 1}]}, 404, "variant_not_found"),
        ({"store_id": 987654321}, 404, "store_not_found"),
        ({"qty": 0}, 422, "invalid_quantity"),
        ({"qty": -3}, 422, "invalid_quantity"),
        ({"qty": 11}, 409, "insufficient_stock"),
        ({"fulfilment": "teleport"}, 422, "validation_error"),
        (
            {
                "pickup_window": {
                    "start": "2026-01-01T03:00:00+08:00",
                    "end": "2026-01-01T04:00:00+08:00",
                }
            },
            422,
            "pickup_window_invalid",
        ),
        ({"fulfilment": "delivery"}, 422, "address_required"),
        (
            {"fulfilment": "delivery", "address": {"text": "far away", "lat": 31.9, "lng": 121.47}},
            422,
            "outside_delivery_radius",
        ),
        ({"fulfilment": "shipping"}, 422, "address_required"),
        (
            {"fulfilment": "shipping", "address": {"text": "x", "lat": 31.2, "lng": 121.4}},
            409,
            "no_shipping_source",
        ),
    ],
)
async def test_bad_orders_are_refused_with_their_code(
    client: httpx.AsyncClient,
    session: AsyncSession,
    change: dict[str, Any],
    status: int,
    code: str,
) -> None:
    scene = await make_scene(session)
    change = dict(change)
    body: dict[str, Any] = {
        "store_id": scene.store.id,
        "fulfilment": "pickup",
        "lines": [{"variant_id": scene.variants[0].id, "qty": change.pop("qty", 1)}],
        **change,
    }
    response = await client.post(
        "/api/v1/orders", json=body, headers={**scene.shopper_headers, **key()}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert await _count_orders(session) == 0
    assert await level_of(session, scene.store, scene.variants[0].id) == (10, 0)


async def test_variant_of_another_merchant_or_unstocked_is_not_sold_here(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    other = await make_scene(session)
    unstocked = await make_product(session, merchant=scene.merchant, sizes=("M",))
    await session.commit()
    for variant_id in (other.variants[0].id, (await _first_variant(session, unstocked.id))):
        response = await place(client, scene, lines=[(variant_id, 1)])
        assert response.status_code == 422
        assert response.json()["code"] == "variant_not_sold_here"
    # A good line beside a bad one: nothing is reserved.
    mixed = await place(client, scene, lines=[(scene.variants[0].id, 1), (other.variants[0].id, 1)])
    assert mixed.status_code == 422
    assert await level_of(session, scene.store, scene.variants[0].id) == (10, 0)


async def _first_variant(session: AsyncSession, product_id: int) -> int:
    return (await catalog_service.variants_of(session, product_id))[0].id


async def test_reserve_to_try_holds_then_sells_at_the_counter(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    m = scene.variants[1]
    placed = await place(client, scene, fulfilment="reserve", lines=[(m.id, 1)])
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["total"] == 19900
    assert order["pickup_code"]["status"] == "active"  # no payment: the code comes at once
    hold = order["hold_until"]
    assert hold is not None
    pay_attempt = await client.post(
        f"/api/v1/orders/{order['id']}/payments",
        json={"provider": "demo"},
        headers=scene.shopper_headers,
    )
    assert pay_attempt.json()["code"] == "order_not_payable"
    assert await level_of(session, scene.store, m.id) == (10, 1)
    redeemed = await client.post(
        f"/api/v1/stores/{scene.store.id}/redemptions",
        json={"code": order["pickup_code"]["code"]},
        headers=scene.clerk_headers,
    )
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["order"]["status"] == "collected"
    assert await level_of(session, scene.store, m.id) == (9, 0)
    assert await inventory_queries.ledger_discrepancies(session) == []


async def test_reserve_hold_expires_by_itself(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    placed = (await place(client, scene, fulfilment="reserve")).json()
    relay: Relay = app.state.relay
    assert (await relay.run_timers(force=True))["expire_orders"] == 0
    order = await orders_service.get_order(session, order_id=placed["id"])
    due = order.hold_until + timedelta(seconds=1) if order.hold_until else utcnow()
    assert await orders_expiry.expire(
        session,
        order_id=order.id,
        policy=app.state.order_policy,
        providers=app.state.payment_providers,
        now=due,
    )
    await session.commit()
    expired = await session.get(Order, order.id, populate_existing=True)
    assert expired is not None
    assert expired.status == "expired"
    assert await level_of(session, scene.store, scene.variants[1].id) == (10, 0)
    code = (await client.get(f"/api/v1/orders/{order.id}", headers=scene.shopper_headers)).json()
    assert code["pickup_code"] is None  # void codes are not shown
    late = await client.post(
        f"/api/v1/stores/{scene.store.id}/redemptions",
        json={"code": placed["pickup_code"]["code"]},
        headers=scene.clerk_headers,
    )
    assert late.status_code == 409
    assert late.json()["code"] == "code_void"


async def test_unpaid_order_expires_and_its_payment_closes(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    placed = (await place(client, scene)).json()
    started = await client.post(
        f"/api/v1/orders/{placed['id']}/payments",
        json={"provider": "demo"},
        headers=scene.shopper_headers,
    )
    assert started.status_code == 201
    again = await client.post(
        f"/api/v1/orders/{placed['id']}/payments",
        json={"provider": "demo"},
        headers=scene.shopper_headers,
    )
    assert again.json()["payment_id"] == started.json()["payment_id"]  # same QR on reload
    later = utcnow() + timedelta(minutes=16)
    due = await orders_expiry.due_orders(session, policy=app.state.order_policy, now=later)
    assert due == [placed["id"]]
    await orders_expiry.expire(
        session,
        order_id=placed["id"],
        policy=app.state.order_policy,
        providers=app.state.payment_providers,
        now=later,
    )
    await session.commit()
    payment = await session.get(Payment, started.json()["payment_id"], populate_existing=True)
    assert payment is not None
    assert payment.status == "closed"
    assert await level_of(session, scene.store, scene.variants[1].id) == (10, 0)


async def test_payment_after_expiry_is_refunded_when_stock_is_gone(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session, qty=1)
    m = scene.variants[1]
    placed = (await place(client, scene, lines=[(m.id, 1)])).json()
    started = (
        await client.post(
            f"/api/v1/orders/{placed['id']}/payments",
            json={"provider": "demo"},
            headers=scene.shopper_headers,
        )
    ).json()
    # The shopper pays in the wallet just in time, but its notification is late...
    confirm = await client.post(
        f"/api/v1/payments/demo/{started['payment_id']}/confirm",
        json={"token": started["qr_payload"].split("t=")[1]},
    )
    assert confirm.status_code == 200
    later = utcnow() + timedelta(minutes=16)
    await orders_expiry.expire(
        session,
        order_id=placed["id"],
        policy=app.state.order_policy,
        providers=app.state.payment_providers,
        now=later,
    )
    await session.commit()
    # ...and someone else buys the last unit meanwhile.
    rival = await place(client, scene, lines=[(m.id, 1)])
    assert rival.status_code == 201
    relay: Relay = app.state.relay
    await relay.drain()
    view = (
        await client.get(f"/api/v1/orders/{placed['id']}", headers=scene.shopper_headers)
    ).json()
    assert view["status"] == "expired"
    assert view["refunded"] == view["total"]
    payment = await session.get(Payment, started["payment_id"], populate_existing=True)
    assert payment is not None
    assert (payment.status, payment.refunded) == ("succeeded", payment.amount)
    assert await level_of(session, scene.store, m.id) == (1, 1)


async def test_cancel_paid_order_refunds_and_restocks(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    m = scene.variants[1]
    order = (await place(client, scene, lines=[(m.id, 2)])).json()
    paid = await pay(client, app, scene, order["id"])
    assert paid["status"] == "paid"
    cancelled = await client.post(
        f"/api/v1/orders/{order['id']}/cancel",
        json={"reason": "wrong size"},
        headers=scene.shopper_headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["refunded"] == cancelled.json()["total"]
    assert await level_of(session, scene.store, m.id) == (10, 0)
    twice = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=scene.shopper_headers)
    assert twice.status_code == 409
    assert twice.json()["code"] == "invalid_transition"
    payment = await session.get(Payment, paid["payment_id"], populate_existing=True)
    assert payment is not None
    assert payment.refunded == payment.amount
    assert await inventory_queries.ledger_discrepancies(session) == []


async def test_reject_needs_a_reason_and_refunds(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    order = (await place(client, scene)).json()
    await pay(client, app, scene, order["id"])
    url = f"/api/v1/stores/{scene.store.id}/orders/{order['id']}/transitions"
    no_reason = await client.post(url, json={"to": "rejected"}, headers=scene.clerk_headers)
    assert no_reason.status_code == 409
    rejected = await client.post(
        url, json={"to": "rejected", "reason": "Item damaged"}, headers=scene.clerk_headers
    )
    assert rejected.status_code == 200
    assert rejected.json()["reason"] == "Item damaged"
    assert rejected.json()["refunded"] == rejected.json()["total"]


async def test_uncollected_pickup_is_cancelled_after_grace(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    order = (await place(client, scene)).json()
    paid = await pay(client, app, scene, order["id"])
    end = await session.scalar(select(Order.pickup_end).where(Order.id == order["id"]))
    assert end is not None
    policy = app.state.order_policy
    assert await orders_expiry.due_orders(session, policy=policy, now=end) == []
    after = end + policy.pickup_grace + timedelta(minutes=1)
    assert await orders_expiry.due_orders(session, policy=policy, now=after) == [order["id"]]
    await orders_expiry.expire(
        session,
        order_id=order["id"],
        policy=policy,
        providers=app.state.payment_providers,
        now=after,
    )
    await session.commit()
    view = (await client.get(f"/api/v1/orders/{order['id']}", headers=scene.shopper_headers)).json()
    assert view["status"] == "cancelled"
    assert view["reason"] == "not_collected"
    assert view["refunded"] == paid["total"]
    assert await level_of(session, scene.store, scene.variants[1].id) == (10, 0)


async def test_delivery_order_inside_radius_with_fee(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    near = {"text": "100 Nanjing Rd", "lat": scene.store.lat + 0.005, "lng": scene.store.lng}
    placed = await place(client, scene, fulfilment="delivery", address=near)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["fee"] == 600
    assert order["total"] == 19900 + 600
    assert 500 < order["distance_m"] < 600
    assert order["promised_at"] is not None
    await pay(client, app, scene, order["id"])
    url = f"/api/v1/stores/{scene.store.id}/orders/{order['id']}/transitions"
    for to in ("accepted", "ready", "out_for_delivery", "delivered"):
        moved = await client.post(url, json={"to": to}, headers=scene.clerk_headers)
        assert moved.status_code == 200, moved.text


async def test_shipping_routes_to_stores_that_have_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scene = await make_scene(session, qty=0)
    s, m = scene.variants[0], scene.variants[1]
    shipping = Fulfilment(pickup=True, shipping=True)
    await merchants_service.update_store(
        session, store_id=scene.store.id, data=StoreUpdate(fulfilment=shipping)
    )
    far = await make_store(
        session,
        merchant=scene.merchant,
        region=scene.region,
        lat=scene.region.center_lat + 0.2,
        fulfilment=shipping,
    )
    await stock(session, store=scene.store, variant_id=s.id, qty=1)
    await stock(session, store=far, variant_id=m.id, qty=5)
    await session.commit()
    body = {
        "fulfilment": "shipping",
        "lines": [{"variant_id": s.id, "qty": 1}, {"variant_id": m.id, "qty": 2}],
        "address": {"text": "Somewhere", "lat": scene.store.lat, "lng": scene.store.lng},
    }
    placed = await client.post(
        "/api/v1/orders", json=body, headers={**scene.shopper_headers, **key()}
    )
    assert placed.status_code == 201, placed.text
    ids = placed.json()["checkout_order_ids"]
    assert len(ids) == 2
    stores = {(await orders_service.get_order(session, order_id=i)).store_id for i in ids}
    assert stores == {scene.store.id, far.id}
    assert await level_of(session, far, m.id) == (5, 2)


async def test_other_stores_staff_cannot_touch_orders_or_codes(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene: OrderScene = await make_scene(session)
    order = (await place(client, scene)).json()
    paid = await pay(client, app, scene, order["id"])
    other = await make_scene(session)
    _, outsider = await make_staff(session, merchant=other.merchant, role=MemberRole.OWNER)
    await session.commit()
    url = f"/api/v1/stores/{scene.store.id}/orders/{order['id']}/transitions"
    assert (await client.post(url, json={"to": "accepted"}, headers=outsider)).status_code == 403
    # A code of this store typed at another merchant's counter.
    wrong = await client.post(
        f"/api/v1/stores/{other.store.id}/redemptions",
        json={"code": paid["pickup_code"]["code"]},
        headers=other.clerk_headers,
    )
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "code_of_another_store"
    unknown = await client.post(
        f"/api/v1/stores/{scene.store.id}/redemptions",
        json={"code": "ZZZZ-ZZZZ-Z"},
        headers=scene.clerk_headers,
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "unknown_code"
    # Another shopper sees no such order.
    peek = await client.get(f"/api/v1/orders/{order['id']}", headers=other.shopper_headers)
    assert peek.status_code == 404


async def test_quote_lists_every_option(client: httpx.AsyncClient, session: AsyncSession) -> None:
    scene = await make_scene(session)
    body = {
        "store_id": scene.store.id,
        "lines": [{"variant_id": scene.variants[0].id, "qty": 2}],
        "address": {"text": "x", "lat": scene.store.lat, "lng": scene.store.lng + 0.01},
    }
    quote = await client.post("/api/v1/orders/quote", json=body, headers=scene.shopper_headers)
    assert quote.status_code == 200, quote.text
    options = {o["fulfilment"]: o for o in quote.json()["options"]}
    assert options["pickup"]["available"] is True
    assert options["pickup"]["total"] == 2 * 19900
    assert options["delivery"]["fee"] == 600
    assert options["delivery"]["arrive_by"] is not None
    assert options["shipping"]["available"] is False
    assert options["shipping"]["reason"] == "fulfilment_not_offered"
    too_many = {**body, "lines": [{"variant_id": scene.variants[0].id, "qty": 50}]}
    short = (
        await client.post("/api/v1/orders/quote", json=too_many, headers=scene.shopper_headers)
    ).json()
    assert {o["reason"] for o in short["options"] if o["fulfilment"] != "shipping"} == {
        "insufficient_stock"
    }


async def test_lost_notification_is_recovered_by_reconciliation(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    order = (await place(client, scene)).json()
    started = (
        await client.post(
            f"/api/v1/orders/{order['id']}/payments",
            json={"provider": "demo"},
            headers=scene.shopper_headers,
        )
    ).json()
    confirm = await client.post(
        f"/api/v1/payments/demo/{started['payment_id']}/confirm",
        json={"token": started["qr_payload"].split("t=")[1]},
    )
    assert confirm.status_code == 200
    # The wallet's notification is lost: drop it from the outbox.
    await session.execute(
        delete(OutboxMessage).where(OutboxMessage.topic == "payments.demo.notify")
    )
    await session.execute(
        update(Payment)
        .where(Payment.id == started["payment_id"])
        .values(created_at=utcnow() - timedelta(minutes=5))
    )
    await session.commit()
    relay: Relay = app.state.relay
    assert (await relay.run_timers(force=True))["reconcile_payments"] == 1
    view = (await client.get(f"/api/v1/orders/{order['id']}", headers=scene.shopper_headers)).json()
    assert view["status"] == "paid"
    assert view["pickup_code"] is not None
