"""``Idempotency-Key`` at the HTTP edge: claim, run the use case, store and replay responses.

Use it in a write route that creates money or stock effects::

    return await idempotent(
        request, session, principal=principal, key=idempotency_key,
        body=body.model_dump(mode="json"), action=lambda: do_it(session, ...),
    )

``action`` runs the use case (flushes, never commits) and returns ``(status, body)``.
See ``o2o.core.idempotency`` for the protocol and its guarantees.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.principal import Principal
from o2o.core import idempotency
from o2o.core.errors import DomainError

log = logging.getLogger("o2o.api.idempotency")

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="A unique key per logical request (e.g. a UUID); retries reuse it.",
    ),
]
REPLAYED_HEADER = "Idempotent-Replayed"


def _route_of(request: Request) -> str:
    route = request.scope.get("route")
    template = getattr(route, "path_format", None) or request.url.path
    return f"{request.method} {template}"


async def idempotent(
    request: Request,
    session: AsyncSession,
    *,
    principal: Principal,
    key: str | None,
    body: Any,
    action: Callable[[], Awaitable[tuple[int, Any]]],
    after_commit: Callable[[], Awaitable[None]] | None = None,
) -> JSONResponse:
    """Run ``action`` at most once per (caller, route, key); replay its response after.

    The response is stored as the JSON value and re-rendered the same way, so a replay has
    the first response's status and byte-identical body (plus ``Idempotent-Replayed: true``).
    """
    key = idempotency.check_key(key)
    digest = idempotency.request_hash(request.method, request.url.path, body)
    scope = idempotency.scope_for(user_id=principal.user_id, route=_route_of(request))
    # The claim commits on its own, before the effect (with authentication's reads, which
    # share its transaction and change nothing).
    outcome = await idempotency.claim(session, scope=scope, key=key, request_hash=digest)
    await session.commit()
    if isinstance(outcome, idempotency.Replay):
        return JSONResponse(
            outcome.body, status_code=outcome.status, headers={REPLAYED_HEADER: "true"}
        )
    try:
        status, payload = await action()
        await idempotency.complete(session, outcome, status=status, body=payload)
    except DomainError as exc:
        await session.rollback()
        if exc.status < 500 and not isinstance(exc, idempotency.IdempotencyClaimLost):
            await _release(session, outcome)
        raise
    except Exception:
        # Nothing was committed: free the key so a retry need not wait for it to go stale.
        await session.rollback()
        await _release(session, outcome)
        raise
    # If this commit fails the effect did not happen and the record stays in flight until
    # it is stale; a retry then executes afresh.
    await session.commit()
    if after_commit is not None:
        await after_commit()
    return JSONResponse(payload, status_code=status)


async def _release(session: AsyncSession, claim: idempotency.Claim) -> None:
    try:
        await idempotency.release(session, claim)
        await session.commit()
    except Exception:  # the record will go stale and be taken over instead
        log.exception("could not release idempotency record %s", claim.record_id)
        await session.rollback()
