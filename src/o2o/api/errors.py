"""Every error leaves as RFC 9457 problem details with a stable ``code``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sqlalchemy_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from o2o.core.errors import DomainError

log = logging.getLogger("o2o.api")
PROBLEM = "application/problem+json"

_STATUS_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_error", "Invalid input"),
    429: ("rate_limited", "Too many requests"),
}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem_body(status, code, title, detail, instance=instance, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def problem_body(
    status: int, code: str, title: str, detail: str, *, instance: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The problem details object itself (also sent as a message on a WebSocket)."""
    body: dict[str, Any] = {
        "type": f"urn:o2o:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def domain_problem(exc: DomainError, *, instance: str | None = None) -> dict[str, Any]:
    return problem_body(
        exc.status, exc.code, exc.title, exc.detail, instance=instance, field=exc.field,
        **exc.extra,
    )  # fmt: skip


def validation_problem(raw_errors: Sequence[Any], *, instance: str | None = None) -> dict[str, Any]:
    """422 ``validation_error`` from pydantic's (or FastAPI's) list of errors."""
    errors = [
        {"field": _field_of(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")}
        for e in raw_errors
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    return problem_body(
        422,
        "validation_error",
        "Invalid input",
        f"{first['field']}: {first['message']}",
        instance=instance,
        field=first["field"],
        errors=errors,
    )


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return problem(
            exc.status,
            exc.code,
            exc.title,
            exc.detail,
            instance=request.url.path,
            field=exc.field,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        body = validation_problem(exc.errors(), instance=request.url.path)
        return JSONResponse(body, status_code=422, media_type=PROBLEM)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, title = _STATUS_CODES.get(exc.status_code, ("http_error", "Error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"Nothing is at {request.url.path}."
        return problem(
            exc.status_code,
            code,
            title,
            detail,
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(sqlalchemy_exc.TimeoutError)
    @app.exception_handler(sqlalchemy_exc.DBAPIError)
    async def overloaded(request: Request, exc: Exception) -> JSONResponse:
        # No connection free in time, a lock wait that gave up, the database unreachable or a
        # connection lost: nothing was done (the transaction rolled back), so the client may
        # simply retry. Any other database error is a bug: a 500, logged.
        transient = isinstance(
            exc, sqlalchemy_exc.TimeoutError | sqlalchemy_exc.OperationalError
        ) or bool(getattr(exc, "connection_invalidated", False))
        if not transient:
            return await unexpected(request, exc)
        log.warning("database busy on %s %s: %s", request.method, request.url.path, exc)
        return problem(
            503,
            "temporarily_unavailable",
            "Temporarily unavailable",
            "The service is busy; nothing was changed. Try again in a moment.",
            instance=request.url.path,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "internal_error",
            "Internal error",
            "Something went wrong on our side; it has been logged. Try again in a moment.",
            instance=request.url.path,
        )
