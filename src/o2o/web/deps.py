"""Request plumbing of the pages: the database session, who is logged in, language, CSRF.

Login state is a signed, HttpOnly, SameSite=Lax cookie holding an opaque session token issued
by the accounts service (only its digest is stored there). Every POST form carries a CSRF token:
an HMAC, under the secret key, of the session token, or, before login, of a random per-browser
cookie. A forged cross-site form cannot know it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from o2o.accounts import service as accounts_service
from o2o.accounts.exceptions import InvalidToken
from o2o.accounts.models import TokenKind
from o2o.accounts.principal import Principal
from o2o.core.settings import Settings
from o2o.http.deps import SessionDep, principal_cache_of
from o2o.web import i18n

SESSION_COOKIE = "o2o_session"
BROWSER_COOKIE = "o2o_browser"
LANG_COOKIE = "o2o_lang"
REGION_COOKIE = "o2o_region"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
YEAR = 365 * 24 * 3600


class LoginRequired(Exception):
    """The page needs a logged-in user; the edge answers with a redirect to the login page."""


class CsrfRejected(Exception):
    """A POST came without the page's CSRF token (or with another one)."""


@dataclass
class PendingCookie:
    name: str
    value: str | None  # None deletes the cookie
    max_age: int = YEAR
    httponly: bool = True


@dataclass
class RequestState:
    """What the page layer learns about a request, kept on ``request.state.web``."""

    locale: str
    browser_id: str
    cookies: list[PendingCookie] = field(default_factory=list)
    viewer: Principal | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def signer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="o2o-page-session")


def state(request: Request) -> RequestState:
    """The page state of this request, created on first use (locale and browser id)."""
    existing = getattr(request.state, "web", None)
    if isinstance(existing, RequestState):
        return existing
    asked = request.query_params.get("lang")
    locale = i18n.choose_locale(
        asked, request.cookies, request.headers.get("accept-language"), cookie=LANG_COOKIE
    )
    browser = request.cookies.get(BROWSER_COOKIE, "")
    fresh = len(browser) < 16 or len(browser) > 64
    if fresh:
        browser = secrets.token_urlsafe(24)
    created = RequestState(locale=locale, browser_id=browser)
    if fresh:
        created.cookies.append(PendingCookie(BROWSER_COOKIE, browser))
    if i18n.normalize(asked) and request.cookies.get(LANG_COOKIE) != locale:
        created.cookies.append(PendingCookie(LANG_COOKIE, locale, httponly=False))
    request.state.web = created
    return created


def session_token(request: Request) -> str | None:
    """The session token in the signed cookie, if the signature holds and it is not too old."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    settings = settings_of(request)
    try:
        token = signer(settings).loads(raw, max_age=settings.session_ttl_hours * 3600)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def sign_session(settings: Settings, token: str) -> str:
    return signer(settings).dumps(token)


def csrf_token(request: Request) -> str:
    """The CSRF token that this browser's forms must send back."""
    token = session_token(request)
    basis = f"session:{token}" if token else f"browser:{state(request).browser_id}"
    key = settings_of(request).secret_key.encode()
    return hmac.new(key, f"o2o-csrf|{basis}".encode(), hashlib.sha256).hexdigest()


async def check_csrf(request: Request) -> None:
    """Refuse a POST whose form field or ``X-CSRF-Token`` header does not match."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent: Any = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            sent = (await request.form()).get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(request)):
        raise CsrfRejected


async def get_viewer(request: Request, session: SessionDep) -> Principal | None:
    """The logged-in user, or None (an unknown, expired or revoked session counts as none)."""
    token = session_token(request)
    if token is None:
        return None
    try:
        principal = await accounts_service.principal_for_token(
            session, token=token, kind=TokenKind.SESSION, cache=principal_cache_of(request)
        )
    except InvalidToken:
        return None
    state(request).viewer = principal
    return principal


async def require_viewer(
    viewer: Annotated[Principal | None, Depends(get_viewer)],
) -> Principal:
    if viewer is None:
        raise LoginRequired
    return viewer


ViewerDep = Annotated[Principal | None, Depends(get_viewer)]
UserDep = Annotated[Principal, Depends(require_viewer)]
