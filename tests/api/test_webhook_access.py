"""Who may manage a merchant's webhooks, and which URLs the platform refuses to call."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from o2o.notifications import webhooks
from tests.factories import make_merchant, make_staff


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/in",
        "hooks.example.com/in",
        "http://127.0.0.1:6379/",
        "http://localhost:8000/hook",
        "http://api.localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://2130706433/hook",
        "http://0x7f.1/hook",
        "http://db.internal/hook",
        "https://user:secret@hooks.example.com/in",
    ],
)
def test_urls_the_platform_must_not_call_are_refused(url: str) -> None:
    with pytest.raises(webhooks.WebhookUrlRefused):
        webhooks.check_url(url, allow_private=False)


def test_public_urls_pass_and_private_ones_pass_when_allowed() -> None:
    assert webhooks.check_url(" https://hooks.example.com/in ", allow_private=False) == (
        "https://hooks.example.com/in"
    )
    assert webhooks.check_url("http://93.184.215.14:8080/x", allow_private=False) is not None
    assert webhooks.check_url("http://127.0.0.1:9000/x", allow_private=True) is not None
    with pytest.raises(webhooks.WebhookUrlRefused):
        webhooks.check_url("file:///etc/passwd", allow_private=True)


def test_signature_is_hmac_of_timestamp_and_body() -> None:
    header = webhooks.signature_header("whsec_abc", 1700000000, b'{"id":"evt_1"}')
    assert header == (
        "t=1700000000,v1=" + webhooks.signature("whsec_abc", 1700000000, b'{"id":"evt_1"}')
    )
    assert webhooks.signature("whsec_abc", 1700000000, b"x") != webhooks.signature(
        "whsec_abc", 1700000001, b"x"
    )


async def test_bad_url_is_a_422_with_a_clear_code(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    merchant = await make_merchant(session)
    _owner, headers = await make_staff(session, merchant=merchant, role=MemberRole.OWNER)
    await session.commit()
    base = f"/api/v1/merchants/{merchant.id}/webhooks"
    refused = await client.post(base, json={"url": "http://127.0.0.1:6379/"}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["code"] == "webhook_url_refused"
    assert refused.json()["field"] == "url"
    unknown = await client.post(
        base, json={"url": "https://hooks.example.com/", "events": ["order.eaten"]}, headers=headers
    )
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "webhook_event_unknown"


async def test_only_the_merchants_owners_and_managers_manage_webhooks(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    merchant = await make_merchant(session)
    other = await make_merchant(session)
    _m, manager = await make_staff(session, merchant=merchant, role=MemberRole.MANAGER)
    _c, clerk = await make_staff(session, merchant=merchant, role=MemberRole.CLERK)
    _o, stranger = await make_staff(session, merchant=other, role=MemberRole.OWNER)
    await session.commit()
    base = f"/api/v1/merchants/{merchant.id}/webhooks"
    body = {"url": "https://hooks.example.com/in"}

    created = await client.post(base, json=body, headers=manager)
    assert created.status_code == 201, created.text
    hook_id = created.json()["id"]
    for headers in (stranger, clerk):
        for method, path in (
            ("POST", base),
            ("GET", base),
            ("DELETE", f"{base}/{hook_id}"),
            ("GET", f"{base}/{hook_id}/deliveries"),
            ("POST", f"{base}/{hook_id}/test"),
        ):
            r = await client.request(
                method, path, json=body if method == "POST" else None, headers=headers
            )
            assert r.status_code == 403, (method, path, r.text)
    # Another merchant's owner cannot reach this hook through their own merchant either.
    theirs = f"/api/v1/merchants/{other.id}/webhooks/{hook_id}/deliveries"
    assert (await client.get(theirs, headers=stranger)).status_code == 404
    assert (await client.get(base)).status_code == 401
