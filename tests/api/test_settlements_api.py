"""Settlement statements and refunds over the API: figures that reconcile with the ledger to
the minor unit, a CSV of the same, only for the merchant's owners and managers, and bad
periods refused with a code."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from o2o.ledger.models import Entry, Journal
from o2o.orders import ledger_check
from tests.factories import make_merchant, make_staff, make_user, token_for
from tests.orders.returns_scene import collected_order, take_back
from tests.orders.scene import OrderScene, make_scene, pay, place

PRICE = 19900
FEE = 995  # 5% of ¥199.00, the platform's default


@pytest.fixture
async def scene(session: AsyncSession) -> OrderScene:
    return await make_scene(session)


async def owner_of(session: AsyncSession, scene: OrderScene) -> dict[str, str]:
    _owner, headers = await make_staff(session, merchant=scene.merchant, role=MemberRole.OWNER)
    await session.commit()
    return headers


async def a_day_of_trade(
    client: httpx.AsyncClient, app: FastAPI, scene: OrderScene
) -> dict[str, Any]:
    """Two orders paid, one cancelled (refunded in full), one unit of a collected order of
    two returned: what a settlement must add up."""
    first = await pay(client, app, scene, (await place(client, scene)).json()["id"])
    second = await pay(client, app, scene, (await place(client, scene)).json()["id"])
    cancelled = await client.post(
        f"/api/v1/orders/{second['id']}/cancel", json={"reason": ""}, headers=scene.shopper_headers
    )
    assert cancelled.status_code == 200, cancelled.text
    collected = await collected_order(client, app, scene, [(scene.variants[0].id, 2)])
    returned = await take_back(
        client,
        scene.store.id,
        scene.clerk_headers,
        {
            "order_id": collected["id"],
            "lines": [{"line_id": collected["lines"][0]["id"], "qty": 1}],
            "reason": "too small",
            "kind": "return",
        },
    )
    assert returned.status_code == 201, returned.text
    return {"first": first, "second": second, "collected": collected}


async def test_the_days_statement_adds_up_and_reconciles_with_the_ledger(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    orders = await a_day_of_trade(client, app, scene)
    owner = await owner_of(session, scene)
    m = scene.merchant.id

    listed = await client.get(f"/api/v1/merchants/{m}/settlements", headers=owner)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["commission_bps"] == 500
    (day,) = body["days"]
    fee_two = (2 * PRICE * 500 + 5000) // 10_000
    assert day | {"date": None} == {
        "date": None,
        "currency": "CNY",
        "orders": 3,
        "gross_sales": 4 * PRICE,
        "refunds": 2 * PRICE,
        "commission": 2 * FEE + fee_two,
        "commission_reversed": FEE + (fee_two * PRICE * 2 + 2 * PRICE) // (4 * PRICE),
        "net_payable": day["gross_sales"]
        - day["refunds"]
        - day["commission"]
        + day["commission_reversed"],
    }
    assert body["totals"] == [{k: v for k, v in day.items() if k != "date"}]
    # Owed to the merchant = minus its payable account, to the minor unit
    payable = await session.scalar(
        select(func.sum(Entry.amount)).where(Entry.account == f"merchant_payable:{m}")
    )
    assert day["net_payable"] == -(payable or 0)

    statement = await client.get(f"/api/v1/merchants/{m}/settlements/{day['date']}", headers=owner)
    assert statement.status_code == 200, statement.text
    s = statement.json()
    assert [(line["kind"], line["order_id"]) for line in s["lines"]] == [
        ("sale", orders["first"]["id"]),
        ("sale", orders["second"]["id"]),
        ("refund", orders["second"]["id"]),
        ("sale", orders["collected"]["id"]),
        ("refund", orders["collected"]["id"]),
    ]
    assert s["totals"] == body["totals"]
    assert (
        sum(line["net"] * (1 if line["kind"] == "sale" else -1) for line in s["lines"])
        == (day["net_payable"])
    )
    refund_lines = [line for line in s["lines"] if line["kind"] == "refund"]
    assert refund_lines[0]["note"] == "cancelled by the shopper"
    assert refund_lines[1]["note"] == "returned: too small"
    assert all(line["local_time"].endswith("+08:00") for line in s["lines"])
    assert await ledger_check.differences(session) == []


async def test_the_statement_as_csv(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    await a_day_of_trade(client, app, scene)
    owner = await owner_of(session, scene)
    m = scene.merchant.id
    day = (await client.get(f"/api/v1/merchants/{m}/settlements", headers=owner)).json()["days"][0]
    by_suffix = await client.get(
        f"/api/v1/merchants/{m}/settlements/{day['date']}.csv", headers=owner
    )
    by_query = await client.get(
        f"/api/v1/merchants/{m}/settlements/{day['date']}", params={"format": "csv"}, headers=owner
    )
    assert by_suffix.status_code == by_query.status_code == 200
    assert by_suffix.content == by_query.content
    assert by_suffix.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        f'filename="settlement-{m}-{day["date"]}.csv"' in by_suffix.headers["content-disposition"]
    )
    assert by_suffix.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(by_suffix.content.decode("utf-8-sig"))))
    assert [r["kind"] for r in rows] == ["sale", "sale", "refund", "sale", "refund", "total"]
    assert rows[0]["amount"] == "199.00"
    assert rows[0]["commission"] == "9.95"
    assert rows[0]["net"] == "189.05"
    assert rows[2]["amount"] == "-199.00"
    total = rows[-1]
    assert total["net"] == f"{day['net_payable'] / 100:.2f}"
    assert total["note"] == "orders: 3"
    # The lines add up to the total row, in exact decimals
    assert sum(int(r["net"].replace(".", "")) for r in rows[:-1]) == day["net_payable"]


async def test_a_day_without_trade_is_an_empty_statement(
    client: httpx.AsyncClient, session: AsyncSession, scene: OrderScene
) -> None:
    owner = await owner_of(session, scene)
    r = await client.get(
        f"/api/v1/merchants/{scene.merchant.id}/settlements/2020-02-29", headers=owner
    )
    assert r.status_code == 200
    assert r.json() == {
        "merchant_id": scene.merchant.id,
        "date": "2020-02-29",
        "totals": [],
        "lines": [],
    }
    listed = await client.get(
        f"/api/v1/merchants/{scene.merchant.id}/settlements",
        params={"from": "2020-01-01", "to": "2020-12-31"},
        headers=owner,
    )
    assert listed.json()["days"] == []
    assert listed.json()["from"] == "2020-01-01"


async def test_only_the_merchants_owners_and_managers_read_its_money(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    await pay(client, app, scene, (await place(client, scene)).json()["id"])
    m = scene.merchant
    owner = await owner_of(session, scene)
    _u, manager = await make_staff(session, merchant=m, role=MemberRole.MANAGER)
    _u, scoped = await make_staff(
        session, merchant=m, role=MemberRole.MANAGER, store_ids=[scene.store.id]
    )
    rival = await make_merchant(session)
    _u, rival_owner = await make_staff(session, merchant=rival, role=MemberRole.OWNER)
    admin = await token_for(session, await make_user(session, is_platform_admin=True))
    await session.commit()
    paths = [
        f"/api/v1/merchants/{m.id}/settlements",
        f"/api/v1/merchants/{m.id}/settlements/2026-01-01",
        f"/api/v1/merchants/{m.id}/settlements/2026-01-01.csv",
        f"/api/v1/merchants/{m.id}/refunds",
        f"/api/v1/merchants/{m.id}/commission",
    ]
    for path in paths:
        for who in (owner, manager, admin):
            assert (await client.get(path, headers=who)).status_code == 200, path
        for who in (scene.clerk_headers, scoped, rival_owner, scene.shopper_headers):
            refused = await client.get(path, headers=who)
            assert refused.status_code == 403, (path, refused.text)
            assert refused.json()["code"] == "not_allowed"
        assert (await client.get(path)).status_code == 401
    # A rival's own (empty) settlements are theirs to read; someone else's merchant id is not
    assert (
        await client.get(f"/api/v1/merchants/{rival.id}/settlements", headers=rival_owner)
    ).json()["days"] == []
    missing = await client.get("/api/v1/merchants/999999999/settlements", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["code"] == "merchant_not_found"


@pytest.mark.parametrize(
    ("params", "path", "code", "status"),
    [
        ({"from": "2026-02-01", "to": "2026-01-01"}, "", "invalid_period", 422),
        ({"from": "2024-01-01", "to": "2025-12-31"}, "", "invalid_period", 422),
        ({"from": "2026-02-30"}, "", "validation_error", 422),
        ({"to": "yesterday"}, "", "validation_error", 422),
        ({"from": "0001-01-01"}, "", None, 200),  # the calendar's first days: no overflow
        ({"to": "9999-12-31"}, "", None, 200),
        ({}, "/2026-13-01", "validation_error", 422),
        ({}, "/2026-13-01.csv", "validation_error", 422),
        ({"format": "xml"}, "/2026-01-01", "validation_error", 422),
    ],
)
async def test_bad_periods_and_days_are_refused_with_a_code(
    client: httpx.AsyncClient,
    session: AsyncSession,
    scene: OrderScene,
    params: dict[str, str],
    path: str,
    code: str | None,
    status: int,
) -> None:
    owner = await owner_of(session, scene)
    r = await client.get(
        f"/api/v1/merchants/{scene.merchant.id}/settlements{path}", params=params, headers=owner
    )
    assert r.status_code == status, r.text
    if code:
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == code


async def test_refunds_list_what_went_back_and_what_it_cost_the_merchant(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    orders = await a_day_of_trade(client, app, scene)
    owner = await owner_of(session, scene)
    r = await client.get(f"/api/v1/merchants/{scene.merchant.id}/refunds", headers=owner)
    assert r.status_code == 200, r.text
    refunds = r.json()["refunds"]
    assert [(x["order_id"], x["amount"], x["reason"]) for x in refunds] == [
        (orders["collected"]["id"], PRICE, "returned: too small"),
        (orders["second"]["id"], PRICE, "cancelled by the shopper"),
    ]
    assert refunds[1]["commission_reversed"] == FEE
    assert refunds[1]["merchant_share"] == PRICE - FEE
    for x in refunds:
        assert x["commission_reversed"] + x["merchant_share"] == x["amount"]


async def test_admins_set_a_merchants_commission(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> None:
    admin = await token_for(session, await make_user(session, is_platform_admin=True))
    owner = await owner_of(session, scene)
    url = f"/api/v1/merchants/{scene.merchant.id}/commission"
    assert (await client.put(url, json={"commission_bps": 0}, headers=owner)).status_code == 403
    for bad in (-1, 10_001, "five", 2.5):
        r = await client.put(url, json={"commission_bps": bad}, headers=admin)
        assert r.status_code == 422, bad
        assert r.json()["code"] == "validation_error"
    r = await client.put(url, json={"commission_bps": 250}, headers=admin)
    assert r.json() == {
        "merchant_id": scene.merchant.id,
        "commission_bps": 250,
        "default_bps": 500,
        "effective_bps": 250,
    }
    assert (await client.get(url, headers=owner)).json()["effective_bps"] == 250
    paid = await pay(client, app, scene, (await place(client, scene)).json()["id"])
    fees = await session.scalar(
        select(func.sum(Entry.amount))
        .join(Journal, Journal.id == Entry.journal_id)
        .where(Entry.account == "platform_commission", Entry.order_id == paid["id"])
    )
    assert fees == -((PRICE * 250 + 5000) // 10_000)  # 497.5 -> 498
    listed = await client.get(f"/api/v1/merchants/{scene.merchant.id}/settlements", headers=owner)
    assert listed.json()["commission_bps"] == 250
    back = await client.put(url, json={"commission_bps": None}, headers=admin)
    assert back.json()["effective_bps"] == 500
    assert back.json()["commission_bps"] is None
