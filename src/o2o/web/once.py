"""One-time form keys: a page form that creates money or stock effects runs at most once.

The form carries a hidden random key (``new_key``); the POST goes through ``run_once``, which
follows the protocol of ``o2o.core.idempotency`` exactly as the API's ``Idempotency-Key`` does.
A double click, a resubmitted form or a retried request gets the first outcome (for a page:
where to go next) instead of a second checkout.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core import idempotency

KEY_FIELD = "form_key"


def new_key() -> str:
    return secrets.token_urlsafe(18)


async def run_once(
    session: AsyncSession,
    *,
    user_id: int,
    route: str,
    key: str,
    body: Any,
    action: Callable[[], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """Run ``action`` (flushes, never commits) once per (user, route, key) and commit it with
    its stored outcome; a repeat returns that outcome. Domain errors roll back, free the key
    (so the corrected form can be sent again with it) and propagate."""
    key = idempotency.check_key(key)
    digest = idempotency.request_hash("POST", route, body)
    scope = idempotency.scope_for(user_id=user_id, route=f"page {route}")

    async def run() -> tuple[int, Any]:
        return 200, await action()

    outcome = await idempotency.run_once(
        session, scope=scope, key=key, request_hash=digest, action=run
    )
    result: dict[str, Any] = outcome.body
    return result
