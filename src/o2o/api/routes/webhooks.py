"""Merchants' webhook endpoints: register, list, remove, see deliveries, send a ping."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from o2o.accounts.models import MemberRole
from o2o.accounts.principal import Principal
from o2o.api.deps import IdPath, PrincipalDep, SessionDep, SettingsDep
from o2o.http.deps import kick_relay
from o2o.merchants import service as merchants_service
from o2o.notifications import webhooks
from o2o.notifications.schemas import (
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryRead,
    WebhookPing,
    WebhookRead,
)

router = APIRouter(tags=["webhooks"])
BASE = "/merchants/{merchant_id}/webhooks"


async def _authorize(session: SessionDep, principal: Principal, merchant_id: int) -> None:
    """Owners, and managers of the whole merchant: a webhook hears about every store."""
    await merchants_service.get_merchant(session, merchant_id=merchant_id)
    grant = principal.require_merchant(merchant_id, (MemberRole.OWNER, MemberRole.MANAGER))
    if grant is not None and grant.store_ids and not principal.is_platform_admin:
        principal.require_merchant(merchant_id, (MemberRole.OWNER,))


@router.post(BASE, response_model=WebhookCreated, status_code=status.HTTP_201_CREATED)
async def create_webhook(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    merchant_id: IdPath,
    body: WebhookCreate,
) -> WebhookCreated:
    """Register an endpoint. The answer carries its signing ``secret``, shown this once.

    The URL must be http(s) on a public host: private, loopback and link-local addresses are
    refused (``webhook_url_refused``) so webhooks cannot reach the platform's own network."""
    await _authorize(session, principal, merchant_id)
    endpoint = await webhooks.create_endpoint(
        session,
        merchant_id=merchant_id,
        url=body.url,
        events=body.events,
        description=body.description,
        active=body.active,
        allow_private=settings.webhooks_allow_private,
    )
    created = WebhookCreated.model_validate(endpoint)
    await session.commit()
    return created


@router.get(BASE, response_model=list[WebhookRead])
async def list_webhooks(
    session: SessionDep, principal: PrincipalDep, merchant_id: IdPath
) -> list[WebhookRead]:
    await _authorize(session, principal, merchant_id)
    endpoints = await webhooks.list_endpoints(session, merchant_id=merchant_id)
    return [WebhookRead.model_validate(e) for e in endpoints]


@router.delete(BASE + "/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(
    session: SessionDep, principal: PrincipalDep, merchant_id: IdPath, webhook_id: IdPath
) -> Response:
    """Remove the endpoint; deliveries still queued for it are dropped."""
    await _authorize(session, principal, merchant_id)
    await webhooks.delete_endpoint(session, merchant_id=merchant_id, endpoint_id=webhook_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(BASE + "/{webhook_id}/deliveries", response_model=list[WebhookDeliveryRead])
async def webhook_deliveries(
    session: SessionDep,
    principal: PrincipalDep,
    merchant_id: IdPath,
    webhook_id: IdPath,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[WebhookDeliveryRead]:
    """The latest delivery attempts to this endpoint, newest first."""
    await _authorize(session, principal, merchant_id)
    endpoint = await webhooks.get_endpoint(session, merchant_id=merchant_id, endpoint_id=webhook_id)
    rows = await webhooks.recent_deliveries(session, endpoint_id=endpoint.id, limit=limit)
    return [WebhookDeliveryRead.model_validate(r) for r in rows]


@router.post(
    BASE + "/{webhook_id}/test", response_model=WebhookPing, status_code=status.HTTP_202_ACCEPTED
)
async def test_webhook(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    merchant_id: IdPath,
    webhook_id: IdPath,
) -> WebhookPing:
    """Queue a signed ``ping`` event to the endpoint; its attempts show in the deliveries."""
    await _authorize(session, principal, merchant_id)
    endpoint = await webhooks.get_endpoint(session, merchant_id=merchant_id, endpoint_id=webhook_id)
    event_id = webhooks.queue_ping(session, endpoint)
    await session.commit()
    kick_relay(request)
    return WebhookPing(event_id=event_id)
