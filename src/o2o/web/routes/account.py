"""Log in, log out, and the account page."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from o2o.accounts import service as accounts_service
from o2o.accounts.exceptions import InvalidCredentials
from o2o.accounts.models import TokenKind
from o2o.demo.seed import DEMO_LOGINS, DEMO_PASSWORD
from o2o.http.deps import SessionDep
from o2o.web import deps
from o2o.web.deps import ViewerDep
from o2o.web.render import redirect, render, safe_next

router = APIRouter(include_in_schema=False, dependencies=[Depends(deps.check_csrf)])


def _login_page(
    request: Request, *, next_url: str, login: str = "", error: bool = False, status: int = 200
) -> Response:
    settings = deps.settings_of(request)
    demo = [(email, what) for email, _name, what in DEMO_LOGINS] if settings.demo_mode else []
    return render(
        request,
        "account/login.html",
        {
            "tab": "me",
            "next_url": next_url,
            "login": login,
            "error": error,
            "demo_logins": demo,
            "demo_password": DEMO_PASSWORD if settings.demo_mode else None,
        },
        status=status,
    )


@router.get("/login")
async def login_form(request: Request, viewer: ViewerDep, next: str | None = None) -> Response:
    if viewer is not None:
        return redirect(request, safe_next(next, "/me"))
    return _login_page(request, next_url=safe_next(next, "/me"))


@router.post("/login")
async def login(
    request: Request,
    session: SessionDep,
    login: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/me",
) -> Response:
    """Check the credentials, open a page session and go where the user was heading."""
    target = safe_next(next, "/me")
    if not login.strip() or not password:
        return _login_page(request, next_url=target, login=login, error=True, status=400)
    try:
        user = await accounts_service.authenticate(session, login=login, password=password)
    except InvalidCredentials:
        return _login_page(request, next_url=target, login=login, error=True, status=401)
    settings = deps.settings_of(request)
    token, _expires = await accounts_service.issue_token(
        session,
        user_id=user.id,
        kind=TokenKind.SESSION,
        ttl=timedelta(hours=settings.session_ttl_hours),
    )
    await session.commit()
    deps.state(request).cookies.append(
        deps.PendingCookie(
            deps.SESSION_COOKIE,
            deps.sign_session(settings, token),
            max_age=settings.session_ttl_hours * 3600,
        )
    )
    return redirect(request, target)


@router.post("/logout")
async def logout(request: Request, session: SessionDep) -> Response:
    token = deps.session_token(request)
    if token:
        await accounts_service.revoke_token(session, token=token)
        await session.commit()
    deps.state(request).cookies.append(deps.PendingCookie(deps.SESSION_COOKIE, None))
    return redirect(request, "/")


@router.get("/me")
async def me(request: Request, viewer: ViewerDep) -> Response:
    return render(request, "account/me.html", {"tab": "me"})
