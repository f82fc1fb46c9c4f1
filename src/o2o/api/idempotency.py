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

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.principal import Principal
from o2o.core import idempotency

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


def identify(
    request: Request, *, principal: Principal, key: str | None, body: Any
) -> tuple[str, str, str]:
    """``(scope, key, request hash)``: what "the same request" means for this route and
    caller (a valid key is required)."""
    key = idempotency.check_key(key)
    digest = idempotency.request_hash(request.method, request.url.path, body)
    return idempotency.scope_for(user_id=principal.user_id, route=_route_of(request)), key, digest


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
    scope, key, digest = identify(request, principal=principal, key=key, body=body)
    outcome = await idempotency.run_once(
        session, scope=scope, key=key, request_hash=digest, action=action
    )
    if outcome.replayed:
        return JSONResponse(
            outcome.body, status_code=outcome.status, headers={REPLAYED_HEADER: "true"}
        )
    if after_commit is not None:
        await after_commit()
    return JSONResponse(outcome.body, status_code=outcome.status)


async def maybe_idempotent(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    key: str | None,
    body: Any,
    run: Callable[[], Awaitable[tuple[int, Any]]],
) -> JSONResponse:
    """For writes whose repeat the state machine already refuses (a transition, a
    redemption, a cancellation: a repeat is a 409, never a second effect): idempotent when the
    client sends a key, plain otherwise. Either way the relay is told of the new events."""
    relay = getattr(request.app.state, "relay", None)

    async def kick() -> None:
        if relay is not None:
            relay.kick()

    if key is not None:
        return await idempotent(
            request,
            session,
            principal=principal,
            key=key,
            body=body,
            action=run,
            after_commit=kick,
        )
    status, payload = await run()
    await session.commit()
    await kick()
    return JSONResponse(payload, status_code=status)
