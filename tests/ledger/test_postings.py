"""What the ledger records as orders are paid, cancelled, returned and paid too late; and
that it then reconciles with payments and orders to the minor unit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.ledger import service as ledger_service
from o2o.ledger.exceptions import UnbalancedJournal
from o2o.ledger.models import Entry, Journal, JournalKind
from o2o.ledger.queries import statements
from o2o.ledger.service import Line
from o2o.merchants import service as merchants_service
from o2o.orders import expiry, ledger_check, paying
from o2o.orders.models import Order, OrderStatus
from o2o.orders.policy import OrderPolicy
from o2o.payments import demo_wallet
from o2o.payments import service as payments_service
from o2o.payments.demo_wallet import DemoWalletTrade
from tests.factories import make_store, stock
from tests.orders.scene import OrderScene, key, make_scene, pay, place

PRICE = 19900  # the scene's unit price


@pytest.fixture
async def scene(session: AsyncSession) -> OrderScene:
    return await make_scene(session)


async def entries_of(session: AsyncSession, kind: JournalKind) -> list[tuple[str, int, int | None]]:
    rows = await session.execute(
        select(Entry.account, Entry.amount, Entry.order_id)
        .join(Journal, Journal.id == Entry.journal_id)
        .where(Journal.kind == kind)
        .order_by(Entry.id)
    )
    return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def test_a_paid_order_is_owed_to_its_merchant_net_of_commission(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    placed = await place(client, scene)
    order = await pay(client, app, scene, placed.json()["id"])
    assert order["status"] == "paid"
    m = scene.merchant.id
    assert await entries_of(session, JournalKind.CAPTURE) == [
        ("provider_clearing:demo", PRICE, order["id"]),
        (f"merchant_payable:{m}", -(PRICE - 995), order["id"]),  # 5% of 199.00 = 9.95
        ("platform_commission", -995, order["id"]),
    ]
    assert await ledger_check.differences(session) == []


async def test_the_merchants_own_rate_applies_and_cancellation_reverses_all_of_it(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    await merchants_service.set_commission(
        session, merchant_id=scene.merchant.id, commission_bps=333
    )
    await session.commit()
    placed = await place(client, scene, lines=[(scene.variants[1].id, 3)])
    order = await pay(client, app, scene, placed.json()["id"])
    charged = (3 * PRICE * 333 + 5000) // 10_000  # 1988.01 -> 1988
    cancelled = await client.post(
        f"/api/v1/orders/{order['id']}/cancel",
        json={"reason": "changed my mind"},
        headers=scene.shopper_headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    m = scene.merchant.id
    assert await entries_of(session, JournalKind.REFUND) == [
        (f"merchant_payable:{m}", 3 * PRICE - charged, order["id"]),
        ("platform_commission", charged, order["id"]),
        ("provider_clearing:demo", -3 * PRICE, order["id"]),
    ]
    balances = {a: b for (a, _c), b in (await _balances(session)).items()}
    assert balances[f"merchant_payable:{m}"] == 0
    assert balances["platform_commission"] == 0
    assert balances["provider_clearing:demo"] == 0
    assert await ledger_check.differences(session) == []


async def _balances(session: AsyncSession) -> dict[tuple[str, str], int]:
    from o2o.ledger import audit

    return await audit.balances(session)


async def _settle(
    session: AsyncSession, app: FastAPI, payment_id: int, *, now: datetime | None = None
) -> None:
    """The wallet takes the money and its notification is applied (the worker's path)."""
    wallet = demo_wallet.wallet_in(app.state.payment_providers)
    await session.execute(
        update(DemoWalletTrade)
        .where(DemoWalletTrade.payment_id == payment_id)
        .values(status="paid", paid_at=utcnow())
    )
    signed = await wallet.notification_for(session, payment_id=payment_id)
    assert signed is not None
    body, headers = signed
    result = await payments_service.accept_notification(
        session, provider=wallet, headers={k.lower(): v for k, v in headers.items()}, body=body
    )
    assert result.payment is not None
    await paying.apply_payment(
        session, payment=result.payment, providers=app.state.payment_providers, now=now
    )
    await session.commit()


async def _start(client: httpx.AsyncClient, scene: OrderScene, order_id: int) -> int:
    started = await client.post(
        f"/api/v1/orders/{order_id}/payments",
        json={"provider": "demo"},
        headers=scene.shopper_headers,
    )
    assert started.status_code == 201, started.text
    return int(started.json()["payment_id"])


async def test_money_for_an_expired_order_is_owed_back_then_refunded(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    order_id = (await place(client, scene)).json()["id"]
    payment_id = await _start(client, scene, order_id)
    await expiry.expire(
        session,
        order_id=order_id,
        policy=OrderPolicy(),
        providers=app.state.payment_providers,
        now=utcnow() + timedelta(hours=1),
    )
    await session.commit()
    await _settle(session, app, payment_id)  # the shopper had paid just before the close
    assert await entries_of(session, JournalKind.CAPTURE) == [
        ("provider_clearing:demo", PRICE, order_id),
        ("refunds_due", -PRICE, order_id),
    ]
    assert await entries_of(session, JournalKind.REFUND) == [
        ("refunds_due", PRICE, order_id),
        ("provider_clearing:demo", -PRICE, order_id),
    ]
    assert await ledger_check.differences(session) == []


async def test_money_no_order_claims_goes_back_to_the_payer(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    """A checkout of two stores is paid together; one order is cancelled while the payment is
    pending (the payment is closed and the other order leaves it), yet the provider took the
    money: the cancelled order's share is refunded, and so is the other's, which no order on
    the payment claims any more; nothing is left unallocated."""
    rival = await make_store(session, merchant=scene.merchant, region=scene.region)
    await stock(session, store=rival, variant_id=scene.variants[0].id, qty=5)
    await session.commit()
    checkout = await client.post(
        "/api/v1/checkouts",
        json={
            "orders": [
                {
                    "store_id": scene.store.id,
                    "fulfilment": "pickup",
                    "lines": [{"variant_id": scene.variants[1].id, "qty": 1}],
                },
                {
                    "store_id": rival.id,
                    "fulfilment": "pickup",
                    "lines": [{"variant_id": scene.variants[0].id, "qty": 2}],
                },
            ]
        },
        headers={**scene.shopper_headers, **key()},
    )
    assert checkout.status_code == 201, checkout.text
    first, second = (o["id"] for o in checkout.json()["orders"])
    payment_id = await _start(client, scene, first)
    cancelled = await client.post(
        f"/api/v1/orders/{first}/cancel", json={"reason": ""}, headers=scene.shopper_headers
    )
    assert cancelled.status_code == 200, cancelled.text
    await _settle(session, app, payment_id)
    assert await ledger_check.differences(session) == []
    refunds = await payments_service.refunds_of(session, payment_id=payment_id)
    assert sorted((r.amount, r.reference) for r in refunds) == [
        (PRICE, f"order:{first}"),
        (2 * PRICE, f"payment:{payment_id}"),
    ]
    paid = await payments_service.get_payment(session, payment_id=payment_id)
    assert paid.refunded == paid.amount == 3 * PRICE
    unallocated = await session.scalar(
        select(func.coalesce(func.sum(Entry.amount), 0)).where(
            Entry.account == "unallocated_receipts"
        )
    )
    assert unallocated == 0
    second_order = await session.get(Order, second)
    assert second_order is not None
    assert second_order.status == OrderStatus.PLACED  # it can still be paid on its own


async def test_a_days_statement_is_the_regions_local_day(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    """Paid at 23:30 UTC on 1 January: 07:30 on 2 January in Shanghai, that day's sale."""
    order_id = (await place(client, scene)).json()["id"]
    payment_id = await _start(client, scene, order_id)
    late = datetime(2026, 1, 1, 23, 30, tzinfo=UTC)
    await _settle(session, app, payment_id, now=late)
    on_the_2nd = await statements.statement(
        session, merchant_id=scene.merchant.id, day=date(2026, 1, 2)
    )
    assert [(line.kind, line.order_id) for line in on_the_2nd.lines] == [("sale", order_id)]
    assert on_the_2nd.lines[0].local_time.isoformat() == "2026-01-02T07:30:00+08:00"
    on_the_1st = await statements.statement(
        session, merchant_id=scene.merchant.id, day=date(2026, 1, 1)
    )
    assert on_the_1st.lines == []


async def test_a_posting_must_balance_and_is_written_once(session: AsyncSession) -> None:
    lines = [Line("provider_clearing:demo", 100), Line("unallocated_receipts", -99)]
    with pytest.raises(UnbalancedJournal):
        await ledger_service.post(
            session,
            kind=JournalKind.CAPTURE,
            reference="test:unbalanced",
            currency="CNY",
            occurred_at=utcnow(),
            lines=lines,
        )
    with pytest.raises(UnbalancedJournal):  # one line, or only zeros, is no journal either
        await ledger_service.post(
            session,
            kind=JournalKind.CAPTURE,
            reference="test:alone",
            currency="CNY",
            occurred_at=utcnow(),
            lines=[Line("provider_clearing:demo", 0), Line("unallocated_receipts", 0)],
        )
    balanced = [Line("provider_clearing:demo", 100), Line("unallocated_receipts", -100)]
    first = await ledger_service.post(
        session,
        kind=JournalKind.CAPTURE,
        reference="test:once",
        currency="CNY",
        occurred_at=utcnow(),
        lines=balanced,
    )
    again = await ledger_service.post(
        session,
        kind=JournalKind.CAPTURE,
        reference="test:once",
        currency="CNY",
        occurred_at=utcnow(),
        lines=balanced,
    )
    assert first is not None
    assert again is None
    assert len(await entries_of(session, JournalKind.CAPTURE)) == 2
