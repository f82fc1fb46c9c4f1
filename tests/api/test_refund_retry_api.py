"""POST /api/v1/admin/refunds/{id}/retry: platform admins send a failed refund to the
provider again under its own request number; anything but a failed refund is refused."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.payments import refunds
from o2o.payments.demo_wallet import DemoWalletRefund
from o2o.payments.models import Refund, RefundStatus
from tests.factories import make_user, token_for
from tests.orders.scene import OrderScene, key, make_scene, pay, place


def url(refund_id: int) -> str:
    return f"/api/v1/admin/refunds/{refund_id}/retry"


async def failed_refund(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, scene: OrderScene
) -> Refund:
    """A paid order cancelled, whose refund the provider refused (before the worker ran)."""
    order = await pay(client, app, scene, (await place(client, scene)).json()["id"])
    cancelled = await client.post(
        f"/api/v1/orders/{order['id']}/cancel", headers=scene.shopper_headers
    )
    assert cancelled.status_code == 200, cancelled.text
    [row] = await refunds.with_status(session, status=RefundStatus.PENDING)
    assert await refunds.fail(session, refund_id=row.id, error="wallet_refused: no")
    await session.commit()
    await session.refresh(row)
    return row


async def test_an_admin_retries_a_failed_refund_under_its_own_number(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    row = await failed_refund(client, app, session, scene)
    admin = await token_for(session, await make_user(session, is_platform_admin=True))
    await session.commit()

    retried = await client.post(url(row.id), headers={**admin, **key()})

    assert retried.status_code == 200, retried.text
    body = retried.json()
    assert (body["id"], body["status"], body["attempts"]) == (row.id, "pending", 0)
    assert body["request_no"] == row.request_no
    # the worker makes it, at the wallet, once, under that number
    await app.state.relay.drain()
    await session.refresh(row)
    assert row.status == RefundStatus.SUCCEEDED
    made = list(await session.scalars(select(DemoWalletRefund)))
    assert [(m.request_no, m.amount) for m in made] == [(row.request_no, row.amount)]
    # a second retry of a refund already made is refused, and changes nothing
    again = await client.post(url(row.id), headers=admin)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert (again.json()["code"], again.json()["refund_status"]) == (
        "refund_not_retryable",
        "succeeded",
    )


async def test_only_admins_and_clear_problems(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    scene = await make_scene(session)
    row = await failed_refund(client, app, session, scene)
    admin = await token_for(session, await make_user(session, is_platform_admin=True))
    await session.commit()

    shopper = await client.post(url(row.id), headers=scene.shopper_headers)
    assert (shopper.status_code, shopper.json()["code"]) == (403, "not_allowed")
    anonymous = await client.post(url(row.id))
    assert anonymous.status_code == 401
    missing = await client.post(url(row.id + 1000), headers=admin)
    assert (missing.status_code, missing.json()["code"]) == (404, "refund_not_found")
    bad = await client.post("/api/v1/admin/refunds/abc/retry", headers=admin)
    assert bad.status_code == 422
    await session.refresh(row)
    assert row.status == RefundStatus.FAILED  # nothing above changed it
