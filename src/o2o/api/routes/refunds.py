"""Refunds for operators (platform admins): retry one the provider refused."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from o2o.accounts.exceptions import NotAllowed
from o2o.api.deps import IdPath, PrincipalDep, SessionDep
from o2o.api.idempotency import IdempotencyKey, maybe_idempotent
from o2o.payments import service as payments_service
from o2o.payments.schemas import RefundRead, refund_read

router = APIRouter(tags=["refunds"])


@router.post("/admin/refunds/{refund_id}/retry", response_model=RefundRead)
async def retry_refund(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    refund_id: IdPath,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Send a ``failed`` refund to the provider again, under its own request number (the
    provider makes one refund per number, so a retry never refunds twice). Answers the refund,
    ``pending`` until the worker hears from the provider; 409 ``refund_not_retryable`` when
    it is not failed (pending, succeeded, or retried by someone else just now)."""
    if not principal.is_platform_admin:
        raise NotAllowed("Only platform administrators can retry refunds.")

    async def action() -> tuple[int, object]:
        row = await payments_service.retry_refund(session, refund_id=refund_id)
        return 200, refund_read(row).model_dump(mode="json")

    return await maybe_idempotent(request, session, principal, idempotency_key, {}, action)
