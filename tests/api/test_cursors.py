"""Every keyset-paged list refuses a cursor it did not produce with 422 ``invalid_cursor``,
including a well-formed one whose value is not a row id (never a 500)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from tests.factories import make_staff
from tests.inventory.scene import make_shop


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps([value]).encode()).decode().rstrip("=")


@pytest.mark.parametrize("value", ["x", 1.5, True, None, [1]])
async def test_a_cursor_that_is_not_a_row_id_is_a_user_error(
    client: httpx.AsyncClient, session: AsyncSession, value: object
) -> None:
    shop = await make_shop(session, sizes=("M",))
    variant = shop.variants[0]
    _u, owner = await make_staff(session, merchant=shop.merchant, role=MemberRole.OWNER)
    await session.commit()
    store = shop.store.id
    paths = [
        "/api/v1/me/orders",
        "/api/v1/me/payments",
        f"/api/v1/stores/{store}/orders",
        f"/api/v1/stores/{store}/stock",
        f"/api/v1/stores/{store}/stock/{variant.id}/movements",
        f"/api/v1/products?merchant_id={shop.merchant.id}",
        f"/api/v1/stores?merchant_id={shop.merchant.id}",
    ]
    for path in paths:
        r = await client.get(path, params={"cursor": _cursor(value)}, headers=owner)
        assert (r.status_code, r.json().get("code")) == (422, "invalid_cursor"), (path, r.text)
        first = await client.get(path, headers=owner)
        assert first.status_code == 200, (path, first.text)
